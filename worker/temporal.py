"""One way to connect to Temporal and one way to build the worker, for every process."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from activities import NotificationActivities, ProjectionActivities
from workflows import search_attributes
from workflows.case import CaseWorkflow

logger = logging.getLogger("reentry.worker")

WORKFLOWS = [CaseWorkflow]


async def connect(address: str, namespace: str = "default") -> Client:
    return await Client.connect(address, namespace=namespace, data_converter=pydantic_data_converter)


def build_worker(client: Client, task_queue: str, engine: Engine) -> Worker:
    notifications = NotificationActivities()
    projection = ProjectionActivities(engine)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[notifications.send_notification, notifications.announce_case_closed, projection.project_case],
        # The projection writer uses a blocking database driver: it runs in threads.
        activity_executor=ThreadPoolExecutor(max_workers=8),
    )


async def register_search_attributes(client: Client, namespace: str) -> None:
    """Register the case search attributes that the namespace does not have yet."""
    try:
        listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
        existing = set(listed.custom_attributes)
    except RPCError as err:
        # The time-skipping test server can add search attributes but not list them.
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        existing = set()
    missing = {key.name: key.indexed_value_type for key in search_attributes.ALL if key.name not in existing}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
