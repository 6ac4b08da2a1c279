"""Errors of a model against labelled frames: the numbers a potential is judged by.

Energy RMSE per atom (meV/atom), force RMSE per component (meV/Å) and relative to the RMS force component, stress
RMSE per component (GPa) and relative to the RMS stress component (periodic frames only).
"""

from __future__ import annotations

import numpy as np

#: eV/Å³ in GPa
EV_A3_GPA = 160.21766208
#: frames per model call when evaluating
CHUNK = 16


def predictions(model, data, idx) -> dict:
    """Model energies [B] (eV), forces [N, 3] (eV/Å) and stress [B, 3, 3] (eV/Å³) for the frames ``idx`` of
    ``data`` (:class:`lawful.atoms.train.Tensors`), with the labels (``*_ref``) and atom counts."""
    parts: dict[str, list] = {k: [] for k in ("energy", "forces", "stress", "energy_ref", "forces_ref", "stress_ref",
                                              "n_atoms")}
    import torch

    idx = np.asarray(idx)
    for start in range(0, idx.size, CHUNK):
        g, energy, forces, stress, n_atoms = data.batch(idx[start:start + CHUNK])
        _, e, f, s = model.energy_forces_stress(*g.inputs(), stress=not model.force_head, **g.pairs())
        if s is None:
            s = torch.full_like(stress, float("nan"))
        for key, value in (("energy", e), ("forces", f), ("stress", s), ("energy_ref", energy),
                           ("forces_ref", forces), ("stress_ref", stress), ("n_atoms", n_atoms)):
            parts[key].append(value.detach().numpy().astype(float))
    return {k: np.concatenate(v) for k, v in parts.items()}


def summarize(p: dict) -> dict:
    """The error table of :func:`predictions`' output ``p``."""
    de = (p["energy"] - p["energy_ref"]) / p["n_atoms"]
    df = p["forces"] - p["forces_ref"]
    ok = np.isfinite(p["forces_ref"]).all(axis=1)
    periodic = np.isfinite(p["stress_ref"]).all(axis=(1, 2))
    out = {"energy_rmse_mev_atom": 1e3 * float(np.sqrt(np.mean(de**2))),
           "force_rmse_mev_a": 1e3 * float(np.sqrt(np.mean(df[ok] ** 2))),
           "force_rms_mev_a": 1e3 * float(np.sqrt(np.mean(p["forces_ref"][ok] ** 2)))}
    out["force_rmse_rel"] = out["force_rmse_mev_a"] / max(out["force_rms_mev_a"], 1e-12)
    if periodic.any():
        ds = p["stress"][periodic] - p["stress_ref"][periodic]
        out["stress_rmse_gpa"] = EV_A3_GPA * float(np.sqrt(np.mean(ds**2)))
        out["stress_rms_gpa"] = EV_A3_GPA * float(np.sqrt(np.mean(p["stress_ref"][periodic] ** 2)))
        out["stress_rmse_rel"] = out["stress_rmse_gpa"] / max(out["stress_rms_gpa"], 1e-12)
    return out


def errors(model, data, idx) -> dict:
    """:func:`summarize` of :func:`predictions`."""
    return summarize(predictions(model, data, idx))
