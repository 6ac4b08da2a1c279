"""The one lifecycle of long jobs: a real SIGINT stops a job between two steps with its checkpoint whole, the
job resumes from it to the uninterrupted result; a directory holding another run is refused."""

import json
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from lawful.core.config import Config
from lawful.core.lifecycle import claim_run_directory

#: a job whose state (a, b) is whole only between steps (a == b); each step takes ~20 ms between its halves
JOB = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from lawful.core.io import atomic_write_bytes
    from lawful.core.lifecycle import checkpointing

    path, n = Path(sys.argv[1]), int(sys.argv[2])
    state = json.loads(path.read_text()) if path.exists() else {"a": 0, "b": 0}
    save = lambda: atomic_write_bytes(path, json.dumps(state).encode())
    try:
        with checkpointing(save, every=0.05) as checkpoints:
            while state["b"] < n:
                state["a"] += 1
                time.sleep(0.02)
                state["b"] += 1
                checkpoints.tick()
    except KeyboardInterrupt:
        sys.exit(130)
    save()
""")


def test_a_real_sigint_stops_between_steps_and_the_job_resumes(tmp_path):
    path = tmp_path / "state.json"
    proc = subprocess.Popen([sys.executable, "-c", JOB, str(path), "200"])
    deadline = time.monotonic() + 60
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    for _ in range(5):  # Ctrl-C lands anywhere in a step, mostly between its halves
        time.sleep(0.013)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    state = json.loads(path.read_text())
    assert state["a"] == state["b"] and 0 < state["b"] < 200  # a whole step, in the middle of the job
    subprocess.run([sys.executable, "-c", JOB, str(path), "200"], check=True, timeout=60)
    assert json.loads(path.read_text()) == {"a": 200, "b": 200}


def test_a_second_sigint_stops_at_once_and_keeps_the_previous_checkpoint(tmp_path):
    path = tmp_path / "state.json"
    slow = JOB.replace("time.sleep(0.02)", "time.sleep(2.0)")
    proc = subprocess.Popen([sys.executable, "-c", slow, str(path), "200"])
    deadline = time.monotonic() + 60
    while not path.exists() and time.monotonic() < deadline:  # the first checkpoint: a whole state
        time.sleep(0.01)
    before = path.read_text()
    proc.send_signal(signal.SIGINT)  # deferred: the step is inside its 2 s sleep
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)  # stops at once, mid-step: nothing is saved
    assert proc.wait(timeout=60) == 130
    assert path.read_text() == before and json.loads(before)["a"] == json.loads(before)["b"]


class _Cfg(Config):
    x: int = 1


def test_claim_refuses_another_run_and_writes_the_config(tmp_path):
    text = claim_run_directory(_Cfg(x=1), tmp_path)
    assert (tmp_path / "config.toml").read_text() == text and "x = 1" in text
    claim_run_directory(_Cfg(x=1, threads=2), tmp_path)  # threads never makes another run
    with pytest.raises(ValueError, match="holds a different run"):
        claim_run_directory(_Cfg(x=2), tmp_path)
