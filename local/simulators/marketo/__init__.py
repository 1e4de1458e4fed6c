"""A faithful local Marketo: identity, leads, lead fields, static lists, custom activities,
stats, bulk import, limits, permissions and faults.

from local.simulators.marketo import MarketoSimulator, SimulatorConfig
with MarketoSimulator(SimulatorConfig(client_id="id", client_secret="s")) as sim:
    sim.base_url  # http://127.0.0.1:PORT
"""

from .clock import SimClock
from .config import FaultConfig, FieldDef, SimulatorConfig, load_config
from .routes import ROUTES
from .simulator import MarketoSimulator

__all__ = [
    "ROUTES",
    "FaultConfig",
    "FieldDef",
    "MarketoSimulator",
    "SimClock",
    "SimulatorConfig",
    "load_config",
]
