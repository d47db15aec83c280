"""The Prometheus endpoint of a process, and Temporal's SDK metrics on it.

Every process (``reentry api``, ``reentry worker``, ``reentry up``) serves one endpoint
on ``REENTRY_METRICS_HOST:REENTRY_METRICS_PORT``, apart from the API's port, without a
token: it holds counts and durations labelled with codes and kinds, nothing about a
person. On it:

- Temporal's SDK metrics of the process's client and worker (``temporal_*``), which the
  SDK records into a buffer that ``TemporalSdkMetrics`` turns into Prometheus metrics;
- the counters of the activities (``activities.metrics``), in a worker;
- the read model's figures (``api.metrics``), in an API;
- the Python process itself (``process_*``, ``python_*``).

The endpoint and the SDK's collector live here, below the API and the worker; which
collectors a process puts on its endpoint is decided where the process is wired
(``worker.telemetry``).
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from temporalio.runtime import (
    BUFFERED_METRIC_KIND_COUNTER,
    BUFFERED_METRIC_KIND_GAUGE,
    BufferedMetricKind,
    MetricBuffer,
    MetricBufferDurationFormat,
    Runtime,
    TelemetryConfig,
)

logger = logging.getLogger("reentry.metrics")

# Temporal's histograms are durations, here in seconds: from a local activity's few
# milliseconds to a long poll's minute.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

Labels = tuple[tuple[str, str], ...]
# Label sets kept converted; more than this (the SDK making new ones) and the cache restarts.
_MAX_LABEL_SETS = 10_000


@dataclass
class _Histogram:
    buckets: list[int] = field(default_factory=lambda: [0] * (len(DURATION_BUCKETS) + 1))
    sum: float = 0.0
    count: int = 0

    def observe(self, value: float) -> None:
        self.buckets[bisect.bisect_left(DURATION_BUCKETS, value)] += 1
        self.sum += value
        self.count += 1


@dataclass
class _Series:
    kind: BufferedMetricKind
    description: str
    values: dict[Labels, float] = field(default_factory=dict)
    histograms: dict[Labels, _Histogram] = field(default_factory=dict)


class TemporalSdkMetrics:
    """Temporal's SDK metrics of this process, as a Prometheus collector.

    Give ``runtime`` to every Temporal client of the process (``core.temporal.connect``);
    the workers made with those clients record into it too. The SDK fills a buffer, which a
    thread drains every ``drain_interval`` seconds (a full buffer drops updates) and every
    scrape drains too. Counters are exposed as ``<name>_total``, durations in seconds.
    """

    def __init__(self, *, buffer_size: int = 100_000, drain_interval: float = 1.0) -> None:
        self._buffer = MetricBuffer(buffer_size, MetricBufferDurationFormat.SECONDS)
        self.runtime = Runtime(telemetry=TelemetryConfig(metrics=self._buffer))
        self._lock = threading.Lock()
        self._series: dict[str, _Series] = {}
        self._labels: dict[int, tuple[Any, Labels]] = {}
        self._stop = threading.Event()
        self._drainer = threading.Thread(
            target=self._drain_until_stopped, args=(drain_interval,), name="temporal-metrics", daemon=True
        )
        self._drainer.start()

    def close(self) -> None:
        self._stop.set()
        self._drainer.join()

    def _drain_until_stopped(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.drain()
            except Exception:
                logger.exception("Temporal's SDK metrics could not be read")

    def _labels_of(self, attributes: Any) -> Labels:
        # The SDK hands the same attributes object for the same label set: converted once.
        # The object is kept with its labels, so that its id is not reused for another.
        known = self._labels.get(id(attributes))
        if known is None:
            if len(self._labels) >= _MAX_LABEL_SETS:
                self._labels.clear()
            known = (attributes, tuple(sorted((str(k), str(v)) for k, v in dict(attributes).items())))
            self._labels[id(attributes)] = known
        return known[1]

    def drain(self) -> None:
        with self._lock:
            for update in self._buffer.retrieve_updates():
                metric = update.metric
                series = self._series.get(metric.name)
                if series is None:
                    series = self._series[metric.name] = _Series(metric.kind, metric.description or metric.name)
                labels = self._labels_of(update.attributes)
                if metric.kind == BUFFERED_METRIC_KIND_COUNTER:
                    series.values[labels] = series.values.get(labels, 0) + update.value
                elif metric.kind == BUFFERED_METRIC_KIND_GAUGE:
                    series.values[labels] = update.value
                else:
                    series.histograms.setdefault(labels, _Histogram()).observe(update.value)

    def describe(self) -> Iterable[Metric]:
        # Which metrics the SDK will record is known only once it has: nothing to reserve.
        return []

    def collect(self) -> Iterator[Metric]:
        self.drain()
        with self._lock:
            for name, series in sorted(self._series.items()):
                if series.kind == BUFFERED_METRIC_KIND_COUNTER:
                    # One "_total", also for a name that ends in it (local_activity_total).
                    metric = Metric(name.removesuffix("_total"), series.description, "counter")
                    for labels, value in series.values.items():
                        metric.add_sample(f"{metric.name}_total", dict(labels), value)
                elif series.kind == BUFFERED_METRIC_KIND_GAUGE:
                    metric = Metric(name, series.description, "gauge")
                    for labels, value in series.values.items():
                        metric.add_sample(name, dict(labels), value)
                else:
                    metric = Metric(name, series.description, "histogram")
                    for labels, histogram in series.histograms.items():
                        _add_histogram(metric, name, dict(labels), histogram)
                yield metric


def _add_histogram(metric: Metric, name: str, labels: dict[str, str], histogram: _Histogram) -> None:
    cumulative = 0
    for bound, count in zip([*DURATION_BUCKETS, float("inf")], histogram.buckets, strict=True):
        cumulative += count
        metric.add_sample(f"{name}_bucket", {**labels, "le": floatToGoString(bound)}, cumulative)
    metric.add_sample(f"{name}_count", labels, histogram.count)
    metric.add_sample(f"{name}_sum", labels, histogram.sum)


class MetricsEndpoint:
    """The process's Prometheus endpoint: ``http://<host>:<port>/metrics``, served from a
    thread of its own, so that a scrape never waits on (or holds up) the event loop.

    It serves prometheus_client's default registry (the activities' counters, the
    process) and ``collectors``.
    """

    def __init__(self, host: str, port: int, collectors: Sequence[Collector] = ()) -> None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(REGISTRY)
        for collector in collectors:
            registry.register(collector)
        self._server, self._thread = start_http_server(port, host, registry)
        self.host, self.port = host, self._server.server_port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
