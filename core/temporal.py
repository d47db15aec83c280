"""One way to connect to Temporal, for every process: the API, the worker, the command
line, the tests and the benchmarks.

The client made here carries the product's data converter (pydantic, then encrypted),
and, when given, the tracing interceptor and the runtime that collects the SDK's metrics;
a worker made from such a client inherits all three.
"""

from __future__ import annotations

import dataclasses

from opentelemetry.trace import TracerProvider
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from core.codec import EncryptionCodec, Keyring
from core.settings import Settings
from core.signing import CommandSigning
from workflows import search_attributes


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


async def connect_to(
    settings: Settings,
    *,
    keyring: Keyring,
    tracer_provider: TracerProvider | None = None,
    runtime: Runtime | None = None,
) -> Client:
    """The client of a reentry process: the frontend, namespace, TLS and API key of its settings."""
    return await connect(
        settings.address,
        settings.temporal_namespace,
        keyring=keyring,
        tls=settings.temporal_tls_config(),
        api_key=settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None,
        tracer_provider=tracer_provider,
        runtime=runtime,
    )


async def connect(
    address: str,
    namespace: str = "default",
    *,
    keyring: Keyring,
    tls: TLSConfig | None = None,
    api_key: str | None = None,
    tracer_provider: TracerProvider | None = None,
    runtime: Runtime | None = None,
) -> Client:
    """A client with the product's data converter that signs its commands into cases
    (``core.signing``), as does every worker made from it; traced with ``tracer_provider``,
    and with its SDK metrics in ``runtime`` (``core.metrics``), when given."""
    tracing = [tracing_interceptor(tracer_provider)] if tracer_provider else []
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=data_converter(keyring),
        interceptors=[*tracing, CommandSigning(keyring)],
        # An API key travels over TLS only, whether or not TLS was asked for.
        tls=tls or api_key is not None,
        api_key=api_key,
        runtime=runtime,
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
