"""Dependencies of the routes: one Temporal client per process, the settings, the actor."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlmodel import Session
from temporalio.client import Client

from api.problems import case_not_found
from domain.models import CASE_ID_PATTERN
from domain.policy import Policy


def _session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


def _temporal(request: Request) -> Client:
    return request.app.state.temporal


def _policy(request: Request) -> Policy:
    return request.app.state.policy


def _task_queue(request: Request) -> str:
    return request.app.state.task_queue


def _update_timeout(request: Request) -> timedelta:
    return request.app.state.update_timeout


def _actor(
    x_actor: Annotated[
        str,
        Header(
            min_length=1,
            max_length=100,
            pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$",
            description="Who does this: the user id of the caseworker, or the partner system's name.",
        ),
    ],
) -> str:
    return x_actor


def _case_id(case_id: str) -> str:
    if not CASE_ID_PATTERN.match(case_id):
        raise case_not_found(case_id)
    return case_id


TemporalDep = Annotated[Client, Depends(_temporal)]
SessionDep = Annotated[Session, Depends(_session)]
PolicyDep = Annotated[Policy, Depends(_policy)]
TaskQueueDep = Annotated[str, Depends(_task_queue)]
UpdateTimeoutDep = Annotated[timedelta, Depends(_update_timeout)]
ActorDep = Annotated[str, Depends(_actor)]
CaseIdDep = Annotated[str, Depends(_case_id)]
