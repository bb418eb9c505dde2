"""The short version of ``bench/chaos.py`` (each service killed with SIGKILL once and restarted,
a small stream of orders): no effect lost, none performed twice, no timeline entry missing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from orderflow_devstack.launcher import SERVICES

pytestmark = pytest.mark.e2e

CHAOS = Path(__file__).resolve().parents[2] / "bench" / "chaos.py"


def test_kill_9_of_each_service_loses_nothing_and_doubles_nothing() -> None:
    run = subprocess.run(
        [sys.executable, str(CHAOS), "--orders", "60", "--rounds", "1", "--rate", "10",
         "--settle", "120", "--json"],
        capture_output=True, text=True, timeout=420, check=False)
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    assert lines, f"chaos.py printed no figures:\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}"
    figures = json.loads(lines[-1])
    assert figures["kills"] == {s.name: 1 for s in SERVICES}
    assert figures["effects_expected"] >= 60
    assert (figures["lost"], figures["twice"], figures["timeline_missing"]) == (0, 0, 0), figures
    assert run.returncode == 0
