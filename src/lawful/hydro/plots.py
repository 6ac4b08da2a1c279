"""Pictures of hydro snapshots: 1D profiles (ρ, u, p, T and mass fractions) or 2D images (ρ and, with species,
the mass fraction that changed most), one PNG per snapshot beside it; and two 2D runs side by side
(:func:`compare_runs`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _read(path: Path) -> dict:
    import h5py

    with h5py.File(path, "r") as f:
        d = {k: f[k][...] for k in ("x", "y", "rho", "u", "v", "p", "T", "e") if k in f}
        if "X" in f:
            d["X"] = f["X"][...]
        d.update({k: f.attrs[k] for k in ("t", "problem", "ndim")})
        d["species"] = [str(s) for s in f.attrs["species"]]
    return d


def plot_snapshot(path: Path, out: Path | None = None) -> Path:
    """Render one snapshot file to PNG (default: same name with .png); returns the PNG path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = _read(Path(path))
    out = Path(out) if out else Path(path).with_suffix(".png")
    title = f"{d['problem']}  t = {d['t']:.4g} s"
    if d["ndim"] == 1:
        panels = [("rho", "ρ (g/cm³)"), ("u", "u (cm/s)"), ("p", "p (erg/cm³)")]
        has_T = bool(np.any(d["T"] > 0))
        panels += [("T", "T (K)")] if has_T else [("e", "e (erg/g)")]
        n = len(panels) + (1 if d["species"] else 0)
        fig, axes = plt.subplots(n, 1, figsize=(7, 2.1 * n), sharex=True)
        for ax, (key, label) in zip(axes, panels):
            ax.plot(d["x"], d[key][0], lw=1.2)
            ax.set_ylabel(label)
        if d["species"]:
            ax = axes[-1]
            for k, name in enumerate(d["species"]):
                if d["X"][k].max() > 1e-3:
                    ax.semilogy(d["x"], np.maximum(d["X"][k][0], 1e-6), label=name, color=plt.cm.tab20(k % 20))
            ax.set_ylim(1e-4, 1.5)
            ax.set_ylabel("X")
            ax.legend(ncol=5, fontsize=7)
        axes[-1].set_xlabel("x (cm)")
        axes[0].set_title(title)
    else:
        fields = [("rho", d["rho"], "ρ (g/cm³)")]
        if d["species"]:  # the (at most three) mass fractions that vary most across the grid, then T
            change = np.ptp(d["X"], axis=(1, 2))
            for k in [k for k in np.argsort(change)[::-1][:3] if change[k] > 1e-3]:
                fields.append((d["species"][k], d["X"][k], f"X({d['species'][k]})"))
            fields.append(("T", d["T"], "T (K)"))
        fig, axes = plt.subplots(1, len(fields), figsize=(4.6 * len(fields), 4.2))
        extent = (d["x"][0], d["x"][-1], d["y"][0], d["y"][-1])
        for ax, (_, arr, label) in zip(np.atleast_1d(axes), fields):
            im = ax.imshow(arr, origin="lower", extent=extent, cmap="viridis", aspect="equal")
            fig.colorbar(im, ax=ax, shrink=0.8, label=label)
            ax.set_xlabel("x (cm)")
        np.atleast_1d(axes)[0].set_ylabel("y (cm)")
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def plot_run(directory: Path) -> list[Path]:
    """Render every ``snap_*.h5`` of a run directory; FileNotFoundError when there are none."""
    _last_snapshot(Path(directory))  # FileNotFoundError when there are none
    return [plot_snapshot(s) for s in sorted(Path(directory).glob("snap_*.h5"))]


def compare_runs(a: Path, b: Path, out: Path) -> dict[str, float]:
    """The last snapshots of two runs of the same 2D problem and grid (say implicit and surrogate burning) side
    by side: one row per field (T, ρ and the three mass fractions that vary most in run ``a``), columns run a,
    run b and |a − b|; written to PNG ``out``. Returns per field the largest |a − b| relative to the field's
    largest |a| ("max_rel_diff_<field>"). ValueError for runs of different problems, grids or times."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    da, db = (_read(_last_snapshot(Path(d))) for d in (a, b))
    if da["problem"] != db["problem"] or da["rho"].shape != db["rho"].shape or da["t"] != db["t"]:
        raise ValueError(f"{a} ({da['problem']}, {da['rho'].shape}, t = {da['t']:.6g} s) and {b} ({db['problem']}, "
                         f"{db['rho'].shape}, t = {db['t']:.6g} s) are not the same problem, grid and time")
    if da["ndim"] != 2:
        raise ValueError(f"{a} is a {da['ndim']}D run; compare_runs draws 2D images")
    rows = [("T", "T (K)"), ("rho", "ρ (g/cm³)")]
    change = np.ptp(da["X"], axis=(1, 2)) if da["species"] else np.zeros(0)
    species = [k for k in np.argsort(change)[::-1][:3] if change[k] > 1e-3]
    fields = {key: (da[key], db[key]) for key, _ in rows}
    for k in species:
        name = da["species"][k]
        rows.append((name, f"X({name})"))
        fields[name] = (da["X"][k], db["X"][k])
    extent = (da["x"][0], da["x"][-1], da["y"][0], da["y"][-1])
    fig, axes = plt.subplots(len(rows), 3, figsize=(13, 3.6 * len(rows)), squeeze=False)
    diffs = {}
    for row, (key, label) in zip(axes, rows):
        va, vb = fields[key]
        diff = np.abs(va - vb)
        diffs[f"max_rel_diff_{key}"] = float(diff.max() / np.abs(va).max())
        lo, hi = min(va.min(), vb.min()), max(va.max(), vb.max())
        for ax, arr, name, kw in ((row[0], va, Path(a).name, {"vmin": lo, "vmax": hi}),
                                  (row[1], vb, Path(b).name, {"vmin": lo, "vmax": hi}),
                                  (row[2], diff, "|difference|", {"cmap": "magma"})):
            im = ax.imshow(arr, origin="lower", extent=extent, aspect="equal", **{"cmap": "viridis", **kw})
            fig.colorbar(im, ax=ax, shrink=0.8, label=label)
            ax.set_title(name, fontsize=9)
    fig.suptitle(f"{da['problem']}  t = {da['t']:.4g} s")
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return diffs


def _last_snapshot(directory: Path) -> Path:
    snaps = sorted(directory.glob("snap_*.h5"))
    if not snaps:
        raise FileNotFoundError(f"no snapshots (snap_*.h5) in {str(directory)!r}; run `lawful hydro run` first")
    return snaps[-1]
