"""Errors as RFC 9457 problem details, and the mapping of workflow errors to statuses."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import ErrorType

logger = logging.getLogger("reentry.api")

PROBLEM_JSON = "application/problem+json"

STATUS_FOR_ERROR_TYPE = {
    ErrorType.TASK_NOT_FOUND: 404,
    ErrorType.CASE_CLOSED: 409,
    ErrorType.TASK_NOT_OPEN: 409,
    ErrorType.PREREQUISITES_OPEN: 409,
    ErrorType.TASK_ASSIGNED_TO_OTHER: 409,
    ErrorType.EVENT_NOT_POSSIBLE: 409,
    ErrorType.NOTICE_CONFLICT: 409,
    ErrorType.INVALID_OUTCOME: 422,
    ErrorType.INVALID_EVENT: 422,
}

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    409: "Not possible now",
    413: "Request too large",
    422: "Invalid request",
    500: "Internal error",
    503: "Service unavailable",
}


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error is answered."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, str]] | None = None


def _documented(description: str) -> dict[str, Any]:
    # `model` registers the schema; the content type we answer with names it.
    schema = {"$ref": "#/components/schemas/ProblemDetails"}
    return {"description": description, "model": ProblemDetails, "content": {PROBLEM_JSON: {"schema": schema}}}


# The errors every authenticated route may answer, documented in its OpenAPI schema.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _documented("The body is not JSON"),
    401: _documented("No valid bearer token"),
    403: _documented("The token's roles may not do this"),
    413: _documented("The body is too large"),
    422: _documented("The request is not valid"),
    503: _documented("The case or the audit log did not answer in time; retry"),
}
# A route of one purpose (casework, the mayor's track) is not there for the other's roles.
PURPOSE_PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    404: _documented("Not there for the token's roles: another purpose's endpoint"),
}

CASE_PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _documented("The body is not JSON"),
    **PROBLEM_RESPONSES,
    404: _documented("No such case or task, or not within the token's municipalities"),
    409: _documented("Not possible now"),
}

NOTICE_PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    **CASE_PROBLEM_RESPONSES,
    404: _documented("No such mayoral notice or step, or not within the token's municipalities"),
}


class Problem(Exception):
    """An error that the API answers with a problem-details body."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        type_: str = "about:blank",
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.type, self.extra = status, detail, type_, extra
        self.headers = headers or {}


def problem_response(
    request: Request, status: int, detail: str, type_: str = "about:blank", **extra: Any
) -> JSONResponse:
    body = {
        "type": type_,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def case_not_found(case_id: str) -> Problem:
    return Problem(404, f"no case {case_id!r}", type_="urn:reentry:problem:case-not-found")


def from_update_failure(err: WorkflowUpdateFailedError) -> Problem:
    """Map a rejected update to a status by the error's stable type, never its text."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type in STATUS_FOR_ERROR_TYPE:
        return Problem(STATUS_FOR_ERROR_TYPE[cause.type], cause.message, type_=f"urn:reentry:problem:{cause.type}")
    raise err


def case_closed(case_id: str) -> Problem:
    return Problem(409, f"case {case_id!r} is closed", type_="urn:reentry:problem:CaseClosed")


def from_rpc_error(err: RPCError, case_id: str) -> Problem:
    if err.status == RPCStatusCode.NOT_FOUND:
        return case_not_found(case_id)
    raise err


def not_answered(timeout: timedelta) -> Problem:
    return Problem(
        503,
        f"the case did not answer within {timeout.total_seconds():g} s (is a worker running, and the read model's"
        " database reachable?). Sending the same request again is safe.",
        type_="urn:reentry:problem:case-not-answering",
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        response = problem_response(request, exc.status, exc.detail, exc.type, **exc.extra)
        response.headers.update(exc.headers)
        if exc.status == 503:
            response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_response(request, 422, detail, "urn:reentry:problem:invalid-request", errors=errors)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The message may quote case data: the log gets the trace, the caller only the fact.
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem_response(request, 500, "something went wrong on our side; it has been logged")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(request, exc.status_code, str(exc.detail))
