import h5py
import numpy as np
import pytest

from lawful.core.io import atomic_h5, atomic_write_bytes, provenance, write_provenance


def test_atomic_write_keeps_old_content_on_failure(tmp_path):
    p = tmp_path / "f.h5"
    with atomic_h5(p) as fh:
        fh["x"] = np.arange(3)
    with pytest.raises(RuntimeError), atomic_h5(p) as fh:
        fh["x"] = np.arange(10)
        raise RuntimeError("crash mid-write")
    with h5py.File(p) as fh:
        np.testing.assert_array_equal(fh["x"][...], np.arange(3))
    assert [q.name for q in tmp_path.iterdir()] == ["f.h5"]  # no temporary left behind


def test_atomic_write_bytes_and_interrupt(tmp_path):
    p = tmp_path / "a.txt"
    atomic_write_bytes(p, b"one")
    assert p.read_bytes() == b"one"
    assert p.stat().st_mode & 0o044  # readable by others under the usual umask, unlike a raw mkstemp file


def test_provenance_attributes(tmp_path):
    attrs = provenance("kappa = 0.1\n", seed=5)
    with atomic_h5(tmp_path / "p.h5") as fh:
        write_provenance(fh, attrs)
    with h5py.File(tmp_path / "p.h5") as fh:
        assert fh.attrs["seed"] == 5
        assert fh.attrs["config"] == "kappa = 0.1\n"
        for key in ("lawful_version", "git_hash", "created"):
            assert fh.attrs[key]
