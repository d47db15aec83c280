"""Linking a person's cases across a re-detention, whichever comes first: the report that
the person was detained again (on the old case), or the new case's day-one notice.

- Reported after the new notice: the old case asks the new one to take the link
  (``link_next_case``), after checking that it is the same person; then it closes.
- Reported before it: the old case waits, open, with the new case's id. When the new
  case starts it looks in the read model for a case of the same person (by the person
  key) that waits for it, and tells that case it has started (``claim_previous_case``);
  the old case closes then. A mistyped detention id closes nothing.

Updates sent by the worker's own client: signed like every command into a case
(``core.signing``). They are named, not referenced: the case workflow names these
activities, so it cannot be imported here.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from core.pseudonyms import PersonKeys
from domain.models import (
    LINK_PREVIOUS_CASE,
    NEXT_CASE_STARTED,
    CaseLink,
    CaseState,
    LinkOutcome,
    NextCaseStarted,
    PreviousCaseClaim,
    PreviousCaseLinked,
)
from store import queries

_GONE = (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION)


class CaseLinkActivities:
    def __init__(self, client: Client, engine: Engine, person_keys: PersonKeys | None) -> None:
        self._client, self._engine, self._person_keys = client, engine, person_keys

    @activity.defn
    async def link_next_case(self, link: CaseLink) -> LinkOutcome:
        """Tell the next case which case came before it, if it exists and is of the same
        person."""
        handle = self._client.get_workflow_handle(link.next_case_id)
        try:
            state = await handle.query("state", result_type=CaseState)
        except RPCError as err:
            if err.status in _GONE:
                return LinkOutcome.NOT_FOUND
            raise
        if state.notice.person.bsn != link.bsn:
            return LinkOutcome.OTHER_PERSON
        if state.previous_case_id == link.previous_case_id:
            return LinkOutcome.LINKED
        try:
            await handle.execute_update(LINK_PREVIOUS_CASE, PreviousCaseLinked(previous_case_id=link.previous_case_id))
        except WorkflowUpdateFailedError:
            return LinkOutcome.CLOSED
        except RPCError as err:
            if err.status in _GONE:
                return LinkOutcome.CLOSED
            raise
        return LinkOutcome.LINKED

    @activity.defn
    async def claim_previous_case(self, claim: PreviousCaseClaim) -> str | None:
        """The case of the same person that waits for this new case, told that it has
        started; None when there is none (or it closed meanwhile)."""
        if self._person_keys is None:
            return None
        keys = self._person_keys.every(claim.bsn)
        waiting = await asyncio.to_thread(self._waiting_for, keys, claim.case_id)
        for case_id in waiting:
            handle = self._client.get_workflow_handle(case_id)
            try:
                await handle.execute_update(NEXT_CASE_STARTED, NextCaseStarted(next_case_id=claim.case_id))
            except WorkflowUpdateFailedError:
                continue
            except RPCError as err:
                if err.status in _GONE:
                    continue
                raise
            return case_id
        return None

    def _waiting_for(self, person_keys: list[str], case_id: str) -> list[str]:
        with Session(self._engine) as session:
            return queries.cases_waiting_for(session, person_keys=person_keys, next_case_id=case_id)
