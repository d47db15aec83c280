"""The short chaos round: the stack as separate processes (Temporal's dev server, the
partner simulator, two workers, the API), a few dozen notices and their changes, and a
worker killed in the middle. Nothing may be lost. The full rounds, with every fault and
on PostgreSQL too, are ``bench/chaos.py``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "chaos.py"


def _chaos():
    spec = importlib.util.spec_from_file_location("bench_chaos", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_chaos"] = module
    spec.loader.exec_module(module)
    return module


async def test_a_worker_killed_under_load_loses_nothing():
    chaos = _chaos()
    [round_] = await chaos.chaos(("worker killed",), notices=30, concurrency=10)
    assert round_.accepted == 30, round_
    assert (round_.lost, round_.duplicated, round_.changes_lost, round_.stuck) == (0, 0, 0, 0), round_
    assert round_.acknowledged == 30, round_.refused
