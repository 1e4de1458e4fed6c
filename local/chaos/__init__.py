"""The chaos run: the whole sync over several Marketo days while everything fails."""

from local.chaos.report import ChaosReport
from local.chaos.run import run
from local.chaos.settings import ChaosSettings

__all__ = ["ChaosReport", "ChaosSettings", "run"]
