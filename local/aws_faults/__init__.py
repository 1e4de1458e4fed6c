"""AWS misbehaving the way AWS does: a reverse proxy in front of moto that throttles, fails
and slows calls by service and operation, in AWS's own wire shapes, and counts every fault.
"""

from local.aws_faults.config import PROTECTED, FaultConfig, FaultRule
from local.aws_faults.defaults import CHAOS_DEFAULTS
from local.aws_faults.faults import FaultKey
from local.aws_faults.proxy import CONTROL_PATH, FaultProxy

__all__ = [
    "CHAOS_DEFAULTS",
    "CONTROL_PATH",
    "PROTECTED",
    "FaultConfig",
    "FaultKey",
    "FaultProxy",
    "FaultRule",
]
