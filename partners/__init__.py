"""The partner simulator: stand-ins for the systems reentry talks to, with realistic
behaviour over simulated time and faults injected by configuration.

Run it with ``reentry partners`` (``make run`` starts it beside the rest); use it in
tests in process through ``httpx.ASGITransport(app=create_partners_app(...))``.
"""

from partners.app import create_partners_app
from partners.clock import SimClock
from partners.config import FaultPlan, Faults, Partner, SimulatorConfig, load_simulator_config
from partners.state import Simulation

__all__ = [
    "FaultPlan",
    "Faults",
    "Partner",
    "SimClock",
    "Simulation",
    "SimulatorConfig",
    "create_partners_app",
    "load_simulator_config",
]
