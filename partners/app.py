"""The partner simulator's application factory."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from partners.clock import SimClock
from partners.config import SimulatorConfig
from partners.deps import problem
from partners.faults import FaultMiddleware
from partners.routers import (
    admin,
    civil_affairs,
    identity,
    income,
    message_box,
    notifications,
    population_register,
    probation,
)
from partners.state import Simulation


def create_partners_app(
    config: SimulatorConfig | None = None, *, clock: SimClock | None = None, simulation: Simulation | None = None
) -> FastAPI:
    """The simulated partner systems in one app, with faults injected as ``config`` says.

    Pass a ``clock`` to move simulated time in process; the ``simulation`` (also on
    ``app.state.simulation``) holds everything the partners remember.
    """
    sim = simulation or Simulation(config, clock)
    app = FastAPI(
        title="reentry partner simulator",
        summary="Justice message box, population register (BRP), income, civil affairs, probation and Open "
        "Notificaties, and the municipality's identity provider, with realistic behaviour and faults on request",
        version="0.1.0",
    )
    app.state.simulation = sim
    for module in (message_box, population_register, income, civil_affairs, probation, notifications, identity, admin):
        app.include_router(module.router)

    @app.get("/healthz", tags=["simulator"])
    async def healthz() -> dict[str, str]:
        """Answers when the simulator is up."""
        return {"status": "ok"}

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Names the wrong fields, never their values: they may be BSNs.
        invalid = [
            {"name": ".".join(str(p) for p in e["loc"]), "code": e["type"], "reason": e["msg"][:80]}
            for e in exc.errors()
        ]
        return problem(422, "Unprocessable Entity", "the request has invalid fields", invalidParams=invalid)

    app.add_middleware(FaultMiddleware, injector=sim.faults)
    return app
