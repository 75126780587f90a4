"""The fault suite's short version (bench/faults.py): 300 runs while an engine, the orchestrator, the gateway,
nats-server and the other engine are SIGKILLed in turn and restarted by `up`'s supervisor. The full one (2,000
runs) is `make faults`, the cluster one `make faults-cluster`; their figures are in docs/RELIABILITY.md."""

from __future__ import annotations

import subprocess
import sys

from automateos.settings import REPO_ROOT


def test_no_run_is_lost_stuck_or_doubled_while_every_process_is_killed_in_turn() -> None:
    finished = subprocess.run([sys.executable, str(REPO_ROOT / "bench" / "faults.py"), "--runs", "300", "--rate", "30"],
                              capture_output=True, text=True, timeout=600)
    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, output[-4000:]
    for killed in ("SIGKILL engine-1", "SIGKILL orchestrator", "SIGKILL gateway", "SIGKILL nats-server",
                   "SIGKILL engine-2"):
        assert killed in output, output[-4000:]
    assert "statuses: {'succeeded': 300}" in output and "exactly one terminal state: 300/300" in output
    assert "HTTP call made: 300/300" in output and "✓ no run lost, stuck or doubled" in output
