"""The guard against inputs a potential never saw: committee disagreement, calibrated, with a reference behind it.

A committee of K members (same data, different seeds) agrees where the data constrained it and disagrees
elsewhere. The per-atom force deviation, as DP-GEN defines it, is

    σ_i = sqrt( mean_k |F_k,i − F̄_i|² )      (eV/Å),

and a configuration's score is max_i σ_i. :func:`calibrate` relates the score to member 0's true force error
on validation frames (error ≈ c·score, c the median ratio) and sets the flag threshold where the predicted error
reaches ``factor`` × the in-domain force RMSE. :class:`GuardedCalculator` computes flagged configurations with a
reference calculator (or raises) and counts them, so an MD run reports the share of steps the model took.
"""

from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator as AseCalculator
from ase.calculators.calculator import all_changes

from lawful.atoms.calculator import Calculator, ase_results

#: flag where the predicted force error exceeds this multiple of the in-domain force RMSE
FLAG_FACTOR = 2.0


class OutOfDomain(RuntimeError):
    """A configuration the committee flags, raised by a :class:`GuardedCalculator` with ``on_flag="raise"``."""


def deviation(forces: np.ndarray) -> np.ndarray:
    """Per-atom force deviation σ_i [N] (eV/Å) of committee forces [K, N, 3]."""
    return np.sqrt(((forces - forces.mean(axis=0)) ** 2).sum(axis=2).mean(axis=0))


def committee_outputs(potential, frames, chunk: int = 16) -> list[dict]:
    """For each frame: every member's forces ``forces`` [K, N, 3] and the ``score`` (max σ_i); the frames are
    evaluated ``chunk`` at a time."""
    from lawful.atoms.frames import frame_arrays

    out = []
    for start in range(0, len(frames), chunk):
        part = frames[start:start + chunk]
        res = potential.evaluate([frame_arrays(a, potential.species, potential.rcut) for a in part],
                                 members=len(potential.members), stress=False)
        stacked = np.stack([r["forces"] for r in res])  # [K, atoms of the chunk, 3]
        for forces in np.split(stacked, np.cumsum([len(a) for a in part])[:-1], axis=1):
            out.append({"forces": forces, "score": float(deviation(forces).max())})
    return out


def force_error(predicted: np.ndarray, reference: np.ndarray) -> float:
    """RMS force-component error of one frame (eV/Å)."""
    return float(np.sqrt(np.mean((predicted - reference) ** 2)))


def calibrate(potential, frames, forces, factor: float = FLAG_FACTOR) -> dict:
    """The guard's calibration from validation ``frames`` with reference ``forces`` (list of [N, 3]):
    ``force_rmse`` (member 0's in-domain RMSE, eV/Å), ``scale`` c (error ≈ c·score), ``threshold`` (score above
    which a frame is flagged) and ``factor``."""
    if len(potential.members) < 2:
        raise ValueError(f"the guard needs a committee of at least 2 members, this model has "
                         f"{len(potential.members)}")
    outs = committee_outputs(potential, frames)
    err = np.array([force_error(o["forces"][0], f) for o, f in zip(outs, forces)])
    score = np.array([o["score"] for o in outs])
    rmse = float(np.sqrt(np.mean([np.mean((o["forces"][0] - f) ** 2) for o, f in zip(outs, forces)])))
    scale = float(np.median(err / np.maximum(score, 1e-12)))
    return {"force_rmse": rmse, "scale": scale, "threshold": factor * rmse / scale, "factor": factor,
            "validation_scores": score.tolist()}


def roc_auc(potential, sets: dict[str, tuple[list, list]]) -> dict:
    """ROC AUC of the committee score for "force RMSE > factor × the in-domain RMSE", pooling the frames of
    ``sets`` ({name: (frames, forces)}; include the in-domain validation set), with each set's flagged share,
    true-positive share and mean error. Uses :func:`sklearn.metrics.roc_auc_score`."""
    from sklearn.metrics import roc_auc_score

    g = potential.guard
    limit = g["factor"] * g["force_rmse"]
    rows, scores, bad = {}, [], []
    for name, (frames, forces) in sets.items():
        outs = committee_outputs(potential, frames)
        s = np.array([o["score"] for o in outs])
        e = np.array([force_error(o["forces"][0], f) for o, f in zip(outs, forces)])
        rows[name] = {"frames": len(frames), "force_rmse_mev_a": 1e3 * float(np.sqrt(np.mean(e**2))),
                      "large_error_share": float(np.mean(e > limit)),
                      "flagged_share": float(np.mean(s > g["threshold"]))}
        scores.append(s)
        bad.append(e > limit)
    scores, bad = np.concatenate(scores), np.concatenate(bad)
    auc = float(roc_auc_score(bad, scores)) if 0 < bad.sum() < bad.size else float("nan")
    return {"auc": auc, "positives": int(bad.sum()), "frames": int(bad.size), "sets": rows}


class GuardedCalculator(Calculator):
    """A Deep Potential committee behind a guard: configurations whose committee score exceeds the calibrated
    threshold are computed by ``reference`` (``on_flag="reference"``) or raise :class:`OutOfDomain`
    (``on_flag="raise"``). ``calls`` and ``flagged`` count them; ``model_share`` = 1 − flagged/calls. ``last_score``
    is the latest score (eV/Å)."""

    def __init__(self, model, reference=None, on_flag: str = "reference", dtype: str | None = None, **kwargs):
        if on_flag not in ("reference", "raise"):
            raise ValueError(f"on_flag = {on_flag!r}: expected 'reference' or 'raise'")
        super().__init__(model, dtype, **kwargs)
        if "threshold" not in self.potential.guard:
            raise ValueError("this model has no guard calibration: train it with a committee of at least 2 "
                             "(lawful atoms train --committee 4)")
        if on_flag == "reference" and reference is None:
            raise ValueError("on_flag='reference' needs a reference calculator (e.g. ase.calculators.emt.EMT())")
        self.reference, self.on_flag = reference, on_flag
        self.calls = self.flagged = 0
        self.last_score = float("nan")

    @property
    def model_share(self) -> float:
        return 1.0 - self.flagged / self.calls if self.calls else float("nan")

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        AseCalculator.calculate(self, atoms, properties, system_changes)
        res = self.member_outputs(properties, len(self.potential.members))
        self.calls += 1
        self.last_score = float(deviation(np.stack([r["forces"] for r in res])).max())
        if self.last_score > self.potential.guard["threshold"]:
            self.flagged += 1
            if self.on_flag == "raise":
                raise OutOfDomain(f"committee force deviation {self.last_score:.3g} eV/Å exceeds the calibrated "
                                  f"threshold {self.potential.guard['threshold']:.3g} eV/Å")
            ref = self.atoms.copy()
            ref.calc = self.reference
            self.results = {"energy": ref.get_potential_energy(), "forces": ref.get_forces()}
            self.results["free_energy"] = self.results["energy"]
            if "stress" in properties:
                self.results["stress"] = ref.get_stress()
            return
        self.results = ase_results(res[0])
