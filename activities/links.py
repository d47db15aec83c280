"""Linking a person's cases: when a case closes because its resident was detained again,
the new case hears which case came before it.

An update of the new case, sent by the worker's own client: signed like every command
into a case (``core.signing``), never a signal that anyone at the Temporal frontend could
send. The update is named, not referenced: the case workflow names this activity, so it
cannot be imported here.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from domain.models import LINK_PREVIOUS_CASE, CaseLink, PreviousCaseLinked


class CaseLinkActivities:
    def __init__(self, client: Client) -> None:
        self._client = client

    @activity.defn
    async def link_next_case(self, link: CaseLink) -> bool:
        """Tell the next case which case came before it; False: there is no such case (yet),
        or it no longer takes the link (closed)."""
        handle = self._client.get_workflow_handle(link.next_case_id)
        try:
            await handle.execute_update(LINK_PREVIOUS_CASE, PreviousCaseLinked(previous_case_id=link.previous_case_id))
        except WorkflowUpdateFailedError:
            return False
        except RPCError as err:
            if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
                return False
            raise
        return True
