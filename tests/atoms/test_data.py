"""Reference data: EMT's labels survive the extxyz round trip, every kind lies where the config puts it, the
shift sets lie outside, the same seed gives the same files, and bad input is refused by name."""

import numpy as np
import pytest
from ase.calculators.emt import EMT
from ase.io import read

from lawful.atoms.data import KINDS, SHIFTS, DataConfig, generate, lattice_constant


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    cfg = DataConfig(n_configs=9, n_shift=2, md_steps=30, out=tmp_path_factory.mktemp("cu"))
    return cfg, generate(cfg)


def test_emt_lattice_constant_is_the_energy_minimum():
    """Against ASE's own equation-of-state fit of E(V) (an independent route), and the known EMT value for Cu."""
    from ase.build import bulk
    from ase.eos import EquationOfState

    a0 = lattice_constant("Cu")
    volumes, energies = [], []
    for x in np.linspace(0.98, 1.02, 9) * a0:
        atoms = bulk("Cu", "fcc", a=x)
        atoms.calc = EMT()
        volumes.append(atoms.get_volume())
        energies.append(atoms.get_potential_energy())
    v0 = EquationOfState(volumes, energies).fit()[0]
    assert (4 * v0) ** (1 / 3) == pytest.approx(a0, rel=1e-5) and a0 == pytest.approx(3.59, abs=0.005)


def test_labels_are_emts_after_the_round_trip(data):
    cfg, files = data
    frames = read(files["train"], ":")
    assert len(frames) == cfg.n_configs and [f.info["config_type"] for f in frames] == [*KINDS] * 3
    for frame in frames[:4]:
        E, F, S = frame.get_potential_energy(), frame.get_forces(), frame.get_stress(voigt=False)
        fresh = frame.copy()
        fresh.calc = EMT()
        assert E == pytest.approx(fresh.get_potential_energy(), rel=1e-12)
        np.testing.assert_allclose(F, fresh.get_forces(), rtol=0, atol=1e-8)  # extxyz keeps 8 decimals
        np.testing.assert_allclose(S, fresh.get_stress(voigt=False), rtol=1e-7, atol=1e-12)
        assert len(frame) in (32, 108) and frame.pbc.all()


def test_each_kind_lies_where_the_config_puts_it(data):
    cfg, files = data
    a0 = lattice_constant(cfg.element)
    for frame in read(files["train"], ":"):
        n = round(len(frame) ** (1 / 3) / 4 ** (1 / 3))  # 32 atoms: 2 cubic cells a side, 108: 3
        strain = frame.cell.array / (n * a0) - np.eye(3)
        kind = frame.info["config_type"]
        assert np.abs(strain).max() <= (cfg.strain_max if kind == "strained" else 1e-12)
        if kind == "rattled":
            assert cfg.rattle_min <= frame.info["rattle"] <= cfg.rattle_max
        if kind == "strained":
            assert 0.0 <= frame.info["rattle"] <= cfg.rattle_min
        if kind == "thermal":
            assert cfg.T_min <= frame.info["temperature"] <= cfg.T_max
    for frame in read(files["strain"], ":"):
        n = round(len(frame) ** (1 / 3) / 4 ** (1 / 3))
        assert np.abs(np.diag(frame.cell.array) / (n * a0) - 1).min() >= 1.25 * cfg.strain_max - 1e-12
    assert all(len(f) % 4 == 3 for f in read(files["vacancy"], ":"))  # one atom short of a cubic supercell
    melt = read(files["melt"], ":")
    assert all(f.info["temperature"] == 3 * 1358.0 for f in melt)
    assert set(files) == {"train", *SHIFTS}


def test_the_same_seed_gives_the_same_files(data, tmp_path):
    cfg, files = data
    again = generate(cfg.model_copy(update={"out": tmp_path}))
    for name, path in files.items():
        assert again[name].read_bytes() == path.read_bytes()


@pytest.mark.parametrize("keys, match", [({"element": "Fe"}, "element 'Fe'"),
                                         ({"rattle_min": 0.2}, "rattle_min = 0.2 exceeds rattle_max"),
                                         ({"n_configs": 0}, "n_configs")])
def test_bad_config_is_refused_by_name(keys, match):
    with pytest.raises(ValueError, match=match):
        DataConfig(**keys)


def test_cli_data_writes_the_sets_and_reports_them(tmp_path):
    import json

    from typer.testing import CliRunner

    from lawful.cli.app import app

    r = CliRunner().invoke(app, ["atoms", "data", "--element", "Al", "--n-configs", "3", "--n-shift", "1",
                                 "--md-steps", "10", "--out", str(tmp_path), "--json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert s["element"] == "Al" and s["sets"]["train"]["frames"] == 3 and set(s["sets"]) == {"train", *SHIFTS}
    assert (tmp_path / "config.toml").exists() and "git" in (tmp_path / "provenance.json").read_text()
    r = CliRunner().invoke(app, ["atoms", "data", "--element", "Fe", "--out", str(tmp_path / "fe")])
    assert r.exit_code == 2 and "element 'Fe'" in r.output
