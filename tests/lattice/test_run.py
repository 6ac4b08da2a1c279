"""Runs: checkpoint/resume is bitwise exact, a different run in the output directory is refused, Ctrl-C keeps a
resumable checkpoint, configurations are stored consistently."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from lawful.lattice import ensemble
from lawful.lattice.config import Phi4RunConfig
from lawful.lattice.run import run
from tests.helpers import stop_at

BASE = dict(dim=2, size=6, kappa=0.2, lam=0.8, n_traj=300, n_therm=20, n_chains=2, seed=4)


@pytest.mark.parametrize("sampler", ["hmc", "metropolis"])
def test_interrupted_and_resumed_run_is_bitwise_identical(tmp_path, sampler):
    straight = Phi4RunConfig(out=tmp_path / "a", sampler=sampler, save_every=50, **BASE)
    run(straight, show_progress=False)
    broken = Phi4RunConfig(out=tmp_path / "b", sampler=sampler, save_every=50, **BASE)
    with pytest.raises(KeyboardInterrupt):
        run(broken, show_progress=False, on_update=stop_at(137))
    partial = ensemble.read(tmp_path / "b" / ensemble.ENSEMBLE_FILE)
    assert partial.n_done == 137 and not partial.complete
    summary = run(broken, show_progress=False)
    assert summary.resumed_from == 137 and summary.complete
    a = ensemble.read(tmp_path / "a" / ensemble.ENSEMBLE_FILE)
    b = ensemble.read(tmp_path / "b" / ensemble.ENSEMBLE_FILE)
    for name in ensemble.SERIES:
        np.testing.assert_array_equal(a.series[name], b.series[name])
    ia, pa = ensemble.load_configs(tmp_path / "a")
    ib, pb = ensemble.load_configs(tmp_path / "b")
    np.testing.assert_array_equal(ia, np.arange(50, 321, 50))
    np.testing.assert_array_equal(ia, ib)
    np.testing.assert_array_equal(pa, pb)
    # stored configurations are the fields whose measurements were recorded
    m_at = a.series["m"][:, ia - 1]
    np.testing.assert_allclose(pa.sum(axis=2).T, m_at, rtol=1e-12)


def test_extending_a_finished_run(tmp_path):
    cfg = Phi4RunConfig(out=tmp_path / "r", **BASE)
    run(cfg, show_progress=False)
    longer = cfg.model_copy(update={"n_traj": 400})
    s = run(longer, show_progress=False)
    assert (s.resumed_from, s.n_done) == (320, 420)
    straight = Phi4RunConfig(out=tmp_path / "s", **{**BASE, "n_traj": 400})
    run(straight, show_progress=False)
    np.testing.assert_array_equal(ensemble.read(tmp_path / "r" / ensemble.ENSEMBLE_FILE).series["m2"],
                                  ensemble.read(tmp_path / "s" / ensemble.ENSEMBLE_FILE).series["m2"])


def test_output_directory_with_a_different_run_is_refused(tmp_path):
    run(Phi4RunConfig(out=tmp_path / "r", **BASE), show_progress=False)
    with pytest.raises(ValueError, match=r"holds a different run \(kappa: 0.2 there, 0.21 here\)"):
        run(Phi4RunConfig(out=tmp_path / "r", **{**BASE, "kappa": 0.21}), show_progress=False)


def test_provenance_in_ensemble(tmp_path):
    import h5py

    run(Phi4RunConfig(out=tmp_path / "r", **BASE), show_progress=False)
    with h5py.File(tmp_path / "r" / ensemble.ENSEMBLE_FILE) as fh:
        assert fh.attrs["seed"] == 4
        assert "kappa = 0.2" in fh.attrs["config"]
        assert fh.attrs["lawful_version"] and fh.attrs["git_hash"]
    assert (tmp_path / "r" / "config.toml").read_text().startswith('theory = "phi4"\ndim = 2')


def _as_from_a_shell():
    """Child-process setup: SIGINT handled by default and not blocked, as for a command typed in a terminal.

    Dispositions and masks are inherited across exec; inside the full suite the pytest process was seen to pass
    on an ignored/blocked SIGINT (the child then ran to completion and exited 0)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def test_ctrl_c_leaves_a_resumable_checkpoint(tmp_path):
    """A real SIGINT to the command line: exit code 130, a checkpoint, and the same command resumes it."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "lawful", "lattice", "hmc", "--dim", "3", "--size", "8", "--n-traj", "200000",
           "--n-therm", "0", "--out", str(out), "--no-plots", "--checkpoint-seconds", "1000"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_as_from_a_shell)
    deadline = time.time() + 60
    while time.time() < deadline and not (out / "config.toml").exists():
        time.sleep(0.1)
    time.sleep(1.5)  # let it do some trajectories
    parent = (signal.getsignal(signal.SIGINT), signal.pthread_sigmask(signal.SIG_BLOCK, []))
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, f"{err}\n(parent SIGINT handler and blocked set: {parent})"
    assert "rerun the same command to resume" in err
    done = ensemble.read(out / ensemble.ENSEMBLE_FILE).n_done
    assert 0 < done < 200000
    cmd[cmd.index("200000")] = str(done + 10)  # extend just past the checkpoint so the test stays short
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert res.returncode == 0, res.stderr
    assert f"resumed at update {done}" in res.stdout
    assert ensemble.read(out / ensemble.ENSEMBLE_FILE).n_done == done + 10
