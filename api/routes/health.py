from __future__ import annotations

from fastapi import APIRouter

from api.deps import TemporalDep
from api.problems import Problem

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(temporal: TemporalDep) -> dict[str, str]:
    """The process can reach Temporal."""
    try:
        await temporal.service_client.check_health()
    except Exception as err:
        raise Problem(503, f"Temporal is not reachable: {type(err).__name__}") from err
    return {"status": "ready"}
