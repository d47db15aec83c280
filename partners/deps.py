"""Dependencies and answers shared by the simulator's routers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, StringConstraints
from stdnum.nl import bsn as stdnum_bsn

from partners.state import Simulation


def get_simulation(request: Request) -> Simulation:
    return request.app.state.simulation


SimDep = Annotated[Simulation, Depends(get_simulation)]


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, **({"detail": detail} if detail else {}), **extra}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _valid_bsn(value: str) -> str:
    if not stdnum_bsn.is_valid(value):
        raise ValueError("not a valid BSN")
    return value


Bsn = Annotated[str, AfterValidator(_valid_bsn)]
MunicipalityCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
# The caller's own key for a request that creates something: the same key, the same thing.
Reference = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9/_.:-]{0,127}$")]
