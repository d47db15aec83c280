"""What a worker pays to pick a case up cold: replaying its recorded history.

A worker keeps a case's run in its sticky cache only while it has room; the first action
on a case that is not cached replays the run's whole history before the update runs. This
replays every recorded history (``tests/histories``) several times with the product's
data converter and signing interceptor, and prints the time per history and per event.

    .venv/bin/python bench/replay.py                 # every history, 5 rounds
    .venv/bin/python bench/replay.py --profile ordinary_course   # where one replay's time goes
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.client import WorkflowHistory  # noqa: E402
from temporalio.worker import Replayer  # noqa: E402

from core.signing import CommandSigning  # noqa: E402
from core.temporal import data_converter  # noqa: E402
from tests.helpers import TEST_KEYRING  # noqa: E402
from worker.temporal import WORKFLOWS  # noqa: E402

HISTORIES = Path(__file__).resolve().parent.parent / "tests" / "histories"


def _load(path: Path) -> tuple[WorkflowHistory, int, int]:
    data = json.loads(path.read_text())
    events = data["events"]
    tasks = sum(
        1 for e in events if e.get("eventType") in ("EVENT_TYPE_WORKFLOW_TASK_COMPLETED", "WorkflowTaskCompleted")
    )
    return WorkflowHistory.from_json(path.stem, path.read_text()), len(events), tasks


async def _replay(replayer: Replayer, history: WorkflowHistory) -> float:
    start = time.perf_counter()
    await replayer.replay_workflow(history)
    return time.perf_counter() - start


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", metavar="HISTORY", help="profile the replay of one history and print the top")
    args = parser.parse_args()
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=data_converter(TEST_KEYRING),
        interceptors=[CommandSigning(TEST_KEYRING)],
    )
    if args.profile:
        history, events, _ = _load(HISTORIES / f"{args.profile}.json")
        await _replay(replayer, history)  # warm: imports, the sandbox's module cache
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.rounds):
            await _replay(replayer, history)
        profile.disable()
        stats = pstats.Stats(profile).sort_stats("cumulative")
        stats.print_stats(40)
        return
    rows = []
    for path in sorted(HISTORIES.glob("*.json")):
        history, events, tasks = _load(path)
        await _replay(replayer, history)  # warm
        times = [await _replay(replayer, history) for _ in range(args.rounds)]
        rows.append((path.stem, events, tasks, statistics.median(times)))
    print(f"{'history':36} {'events':>7} {'tasks':>6} {'replay ms':>10} {'µs/event':>9}")
    for name, events, tasks, seconds in sorted(rows, key=lambda r: r[1]):
        print(f"{name:36} {events:7d} {tasks:6d} {seconds * 1000:10.1f} {seconds / events * 1e6:9.0f}")
    total_events = sum(r[1] for r in rows)
    total_time = sum(r[3] for r in rows)
    per_event = total_time / total_events * 1e6
    print(f"all {len(rows)} histories: {total_events} events, {total_time * 1000:.0f} ms, {per_event:.0f} µs/event")


if __name__ == "__main__":
    asyncio.run(main())
