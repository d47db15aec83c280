"""One way to connect to Temporal and one way to build the worker, for every process."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from opentelemetry.trace import TracerProvider
from sqlalchemy import Engine
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from activities import NotificationActivities, ProjectionActivities
from activities.intake import IntakeActivities
from activities.retention import RetentionActivities
from domain.policy import load_policy
from worker.codec import EncryptionCodec, Keyring
from workflows import search_attributes
from workflows.case import CaseWorkflow
from workflows.intake import MessageBoxIntakeWorkflow
from workflows.retention import RetentionWorkflow

logger = logging.getLogger("reentry.worker")

WORKFLOWS = [CaseWorkflow, RetentionWorkflow, MessageBoxIntakeWorkflow]


def data_converter(keyring: Keyring) -> DataConverter:
    """Pydantic models to JSON, then encrypted: what Temporal stores holds no personal data in clear.

    Failure messages and stack traces go into the encrypted part too: an error's text can
    quote case data, and Temporal would otherwise keep it in clear in the history.
    """
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(keyring),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def tracing_interceptor(tracer_provider: TracerProvider) -> TracingInterceptor:
    """Spans for every client call, workflow and activity, carried along in Temporal's headers.

    On the client, so that the worker made with it traces too. Its spans name workflow,
    run and activity ids only, never a payload.
    """
    return TracingInterceptor(tracer_provider.get_tracer("reentry"))


async def connect(
    address: str,
    namespace: str = "default",
    *,
    keyring: Keyring,
    tracer_provider: TracerProvider | None = None,
    runtime: Runtime | None = None,
) -> Client:
    """A client with the product's data converter; traced with ``tracer_provider``, and
    with its SDK metrics in ``runtime`` (``worker.metrics``), when given."""
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=data_converter(keyring),
        interceptors=[tracing_interceptor(tracer_provider)] if tracer_provider else [],
        runtime=runtime,
    )


def build_worker(
    client: Client,
    task_queue: str,
    engine: Engine,
    partners: Sequence[Callable[..., Any]] = (),
    *,
    retention: RetentionActivities | None = None,
    intake: IntakeActivities | None = None,
    notifications: NotificationActivities | None = None,
) -> Worker:
    """The worker; ``partners``: the partner activities (``worker.partners``), if any."""
    notifications = notifications or NotificationActivities()
    projection = ProjectionActivities(engine)
    retention = retention or RetentionActivities(engine, client)
    intake = intake or IntakeActivities(
        engine, client, policy=load_policy(None), task_queue=task_queue, timeout=timedelta(seconds=30)
    )
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[
            notifications.send_notification,
            notifications.announce_case_closed,
            projection.project_case,
            *partners,
            retention.find_cases_to_erase,
            retention.find_offences_to_erase,
            retention.erase_offence_in_case,
            retention.case_runs,
            retention.delete_case_runs,
            retention.scrub_offence,
            retention.scrub_case,
            intake.read_intake_cursor,
            intake.take_in_messages,
        ],
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
