"""Learning QM9 energies across chemical space: a representation, kernel ridge regression, and Δ on xTB.

:func:`run` draws a seeded test set (``n_test`` molecules) and nested training sets from QM9 (:mod:`~lawful
.atoms.qm9`), represents them (:mod:`~lawful.atoms.representations`), and fits KRR (:mod:`~lawful.atoms.krr`)
to the atomization energy (``delta = "none"``) or to Δ = E_at(B3LYP) − E_at(GFN2-xTB) (``delta = "xtb"``, the
baseline from :mod:`~lawful.atoms.xtb`, cached); predictions of Δ are added back to xTB, so errors are always
on the B3LYP energy (kcal/mol). Molecules whose xTB SCF failed are left out of training and test and listed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
import pydantic

from lawful.atoms import krr, qm9
from lawful.atoms.representations import element_counts, represent
from lawful.core.config import Config, CountList


class QM9Config(Config):
    """What ``lawful atoms qm9`` fits (energies in kcal/mol)."""

    representation: Literal["cm", "cm_eigen", "bob", "local"] = pydantic.Field(
        "bob", description="cm|cm_eigen|bob|local (FCHL19)")
    kernel: Literal["laplacian", "gaussian"] = pydantic.Field(
        "laplacian", description="laplacian|gaussian (local always gaussian)")
    n_train: int = pydantic.Field(1000, ge=5, description="training molecules")
    n_test: int = pydantic.Field(2000, ge=1, description="test molecules (the same for every N of a seed)")
    curve: CountList = pydantic.Field(default_factory=list, description="learning-curve sizes, e.g. 100,200,400")
    delta: Literal["none", "xtb"] = pydantic.Field(
        "none", description="none|xtb: learn the B3LYP energy or its difference to xTB")
    prop: Literal["U0", "U", "H", "G"] = pydantic.Field("U0", description="U0|U|H|G")
    cv_max: int = pydantic.Field(2000, ge=10, description="training molecules used to choose sigma")
    seed: int = pydantic.Field(0, ge=0, description="split seed")
    cache: Path | None = pydantic.Field(None, description="xTB HDF5 cache [default: <lawful cache>/xtb/]")
    out: Path | None = pydantic.Field(None, description="folder for curve.json and curve.png (when curve is set)")

    @property
    def sizes(self) -> list[int]:
        """Every training size to fit: the curve and n_train."""
        return sorted(set(self.curve) | {self.n_train})


def run(cfg: QM9Config, mols: qm9.Molecules | None = None, scheduler: str | None = None) -> dict:
    """Fit and test; the summary for ``n_train`` with the curve (if any) under ``curve`` and its log-log slope."""
    mols = qm9.load(cfg.prop) if mols is None else mols
    n_max = max(cfg.sizes)
    if n_max + cfg.n_test > len(mols):
        raise ValueError(f"N = {n_max} training plus {cfg.n_test} test molecules exceed the {len(mols)} available")
    train_rows, test_rows = qm9.split(len(mols), n_max, cfg.n_test, cfg.seed)
    train, test = mols.subset(train_rows), mols.subset(test_rows)
    y_train, y_test = train.energy.copy(), test.energy.copy()
    failed: list[int] = []
    computed = 0
    if cfg.delta == "xtb":
        from lawful.atoms import xtb

        both = mols.subset(np.r_[train_rows, test_rows])
        base, ok, computed = xtb.qm9_baseline(both, cfg.cache, scheduler)
        failed = [int(i) for i in both.index[~ok]]
        keep_train, keep_test = ok[:n_max], ok[n_max:]
        train, test = train.subset(np.flatnonzero(keep_train)), test.subset(np.flatnonzero(keep_test))
        y_train = train.energy - base[:n_max][keep_train]
        y_test = test.energy - base[n_max:][keep_test]
        sizes = sorted({min(n, len(train)) for n in cfg.sizes})
    else:
        sizes = cfg.sizes
    x_train, x_test = represent(train, cfg.representation), represent(test, cfg.representation)
    points = krr.learning_curve(x_train, y_train, element_counts(train), x_test, y_test, element_counts(test),
                                sizes, cfg.kernel, cfg.seed, cfg.cv_max)
    point = next(p for p in points if p.n_train == min(cfg.n_train, len(train)))
    summary = {"mae_kcal_mol": point.mae, "rmse_kcal_mol": point.rmse, "n_train": point.n_train,
               "n_test": len(test), "representation": cfg.representation, "delta": cfg.delta,
               "kernel": "gaussian" if cfg.representation == "local" else cfg.kernel, "sigma": point.sigma,
               "lambda": point.lam, "validation_mae_kcal_mol": point.validation_mae, "seed": cfg.seed}
    if cfg.delta == "xtb":
        summary.update(baseline_failed=len(failed), baseline_failed_qm9_index=failed, baseline_computed=computed)
    if cfg.curve:
        summary["curve"] = [p.__dict__ for p in points]
        summary["slope"] = krr.loglog_slope(points)
        if cfg.out is not None:
            write_curve(cfg.out, {_label(cfg): points}, summary)
    return summary


def _label(cfg: QM9Config) -> str:
    return cfg.representation + (" Δ xTB" if cfg.delta == "xtb" else "")


def write_curve(folder: Path, curves: dict[str, list[krr.CurvePoint]], summary: dict) -> Path:
    """``curve.json`` (the summary) and ``curve.png`` (MAE against N, log-log) into ``folder``."""
    from lawful.atoms.plots import krr_curves_plot
    from lawful.core.io import atomic_write_bytes

    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(folder / "curve.json", json.dumps(summary, indent=1).encode())
    return krr_curves_plot(curves, folder / "curve.png")
