"""Trained lattice samplers on disk: ``<dir>/model.pt`` holds the weights, the network's hyperparameters and the
action it was trained for, so ``lawful lattice sample`` can refuse a model that does not fit the lattice asked for.

``model.pt`` is a ``torch.save`` dict: ``kind`` (``flow`` | ``diffusion``), ``hparams``, ``state_dict``,
``action`` (``{"name": "phi4", "dim", "size", "kappa", "lam"}`` or ``{"name": "u1", "size", "beta"}``),
``extra`` (e.g. the diffusion noise range), ``train`` (steps, seconds, final loss), ``lawful_version`` and
``config`` (the training config as TOML).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from lawful.core.io import atomic_torch_save
from lawful.lattice.actions import Phi4
from lawful.lattice.geometry import Lattice

MODEL_FILE = "model.pt"
#: the action parameters a model records, per theory (what ``expect`` may check)
ACTION_KEYS = {"phi4": ("dim", "size", "kappa", "lam"), "u1": ("size", "beta")}


def action_record(action: Any) -> dict[str, Any]:
    """The description of ``action`` (:class:`Phi4` or :class:`lawful.lattice.u1.action.U1`) stored with a model."""
    if action.name == "u1":
        return {"name": "u1", "size": int(action.size), "beta": float(action.beta)}
    return {"name": "phi4", "dim": action.lattice.dim, "size": action.lattice.size, "kappa": float(action.kappa),
            "lam": float(action.lam)}


def action_from_record(act: dict[str, Any]) -> Any:
    """The action a stored record describes."""
    if act["name"] == "u1":
        from lawful.lattice.u1.action import U1

        return U1(int(act["size"]), float(act["beta"]))
    return Phi4(Lattice(int(act["dim"]), int(act["size"])), float(act["kappa"]), float(act["lam"]))


def build_model(kind: str, hparams: dict[str, Any], extra: dict[str, Any] | None = None, theory: str = "phi4") -> Any:
    """A fresh network of ``kind`` with ``hparams`` (weights untrained); U(1) flows are gauge-equivariant."""
    if kind == "flow" and theory == "u1":
        from lawful.lattice.u1.flow import GaugeFlow

        return GaugeFlow(**{**hparams, "hidden": tuple(hparams["hidden"])})
    if kind == "flow":
        from lawful.lattice.flow import RealNVPFlow

        return RealNVPFlow(**{**hparams, "hidden": tuple(hparams["hidden"])})
    if kind == "diffusion":
        from lawful.lattice.diffusion import ScoreModel

        return ScoreModel(**{**hparams, "hidden": tuple(hparams["hidden"])}, **(extra or {}))
    raise ValueError(f"unknown sampler kind {kind!r}; expected 'flow' or 'diffusion'")


def save_model(path_dir: Path, model: Any, action: Any, *, config_toml: str, train: dict[str, Any]) -> Path:
    """Write ``<path_dir>/model.pt`` atomically; returns its path."""

    from lawful import __version__

    record = {
        "kind": model.kind,
        "hparams": model.hparams,
        "extra": getattr(model, "extra", {}),
        "state_dict": model.state_dict(),
        "action": action_record(action),
        "train": train,
        "lawful_version": __version__,
        "config": config_toml,
    }
    path = Path(path_dir) / MODEL_FILE
    atomic_torch_save(path, record)
    return path


def load_model(path_dir: str | Path, expect: dict[str, Any] | None = None) -> tuple[Any, Any, dict[str, Any]]:
    """Load ``(model, action, record)`` from a model directory (or a ``model.pt`` path).

    ``expect`` may give any of ``dim``, ``size``, ``kappa``, ``lam``, ``beta``; a model trained for other values
    (or another theory) is refused with a ``ValueError`` that names the mismatch (a flow trained at one size does
    not sample another exactly enough to be useful, and a model of another action would be silently wrong without
    the MH weights).
    """
    import torch

    path = Path(path_dir)
    if path.is_dir():
        path = path / MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no trained model at {str(path)!r}; train one with 'lawful lattice train --out DIR'")
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, OSError, EOFError, pickle.UnpicklingError) as exc:  # corrupt or foreign file
        raise ValueError(f"{str(path)!r} is not a lawful lattice model ({exc})") from None
    missing = [k for k in ("kind", "hparams", "state_dict", "action") if k not in record]
    if missing:
        raise ValueError(f"{str(path)!r} is not a lawful lattice model (missing {missing})")
    act = record["action"]
    theory = act.get("name")
    if theory not in ACTION_KEYS:
        raise ValueError(f"model at {str(path)!r} was trained for action {theory!r}; known: {sorted(ACTION_KEYS)}")
    every_key = {k for keys in ACTION_KEYS.values() for k in keys}
    for key, want in (expect or {}).items():
        if key not in every_key:
            raise ValueError(f"unknown expectation {key!r}; expected one of {sorted(every_key)}")
        if want is None:
            continue
        if key not in ACTION_KEYS[theory]:
            raise ValueError(f"model at {str(path)!r} was trained for the {theory} theory, which has no {key} "
                             f"({key}={want!r} was asked for)")
        if float(want) != float(act[key]):
            raise ValueError(f"model at {str(path)!r} was trained for {key}={act[key]!r}, but {key}={want!r} was "
                             "asked for; train a model for this lattice/action (lawful lattice train)")
    model = build_model(record["kind"], record["hparams"], record.get("extra"), theory)
    model.load_state_dict(record["state_dict"])
    model.eval()
    return model, action_from_record(act), record
