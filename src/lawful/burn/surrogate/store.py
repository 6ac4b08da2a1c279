"""Trained burn surrogates on disk, and the ones that ship with lawful.

``<dir>/model.pt`` is a ``torch.save`` dict: ``format``, ``network`` (name), ``names``, ``hidden``,
``state_dict`` (weights and the feature standardization ``mean``/``scale``), ``domain`` (log10 ρ, T, Δt box of
the training data), ``guard`` (thresholds), ``train`` (steps, loss, held-out errors), ``config`` (TOML) and
``lawful_version``, and (models trained since the error detector) ``detector``: the error detector's ``hidden``
widths and ``state_dict`` (:mod:`lawful.burn.surrogate.detector`), whose threshold is ``guard["error"]``; a
file without it loads with no detector; ``predictor_substeps``, the substeps of the RODAS3 predictor the net was
trained on (1 when absent). ``<dir>/surrogate.ts`` is the TorchScript export (float64) for compiled
codes, and ``<dir>/detector.ts`` that of the error detector.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import math
import pickle
from pathlib import Path
from typing import Any

from lawful.core.io import atomic_torch_save, atomic_write_bytes

MODEL_FILE = "model.pt"
EXPORT_FILE = "surrogate.ts"
DETECTOR_EXPORT_FILE = "detector.ts"
FORMAT = "lawful-burn-surrogate-1"
_NEEDED = ("format", "network", "names", "hidden", "state_dict", "domain", "guard")


@dataclasses.dataclass
class LoadedSurrogate:
    """A surrogate ready to run: the ``step`` module (eval mode, :func:`half_precision_net`) and its record."""

    step: Any
    network: str
    names: tuple[str, ...]
    domain: dict[str, list[float]]
    guard: dict[str, float]
    record: dict[str, Any]
    path: Path
    detector: Any = None
    substeps: int = 1
    #: the first 48 bits of the model file's SHA-256, as an integer (exact in a float64 checkpoint counter)
    fingerprint: int = 0


def shipped_dir(network: str) -> Path:
    """Directory of the surrogate that ships with lawful for ``network`` (``aprox13`` or ``c12``)."""
    return Path(__file__).with_name("models") / network


def save(path_dir: Path, step, network, *, domain: dict, guard: dict, train: dict, config_toml: str,
         detector=None, substeps: int = 1) -> Path:
    """Write ``<path_dir>/model.pt`` atomically (weights as float32 halves the size; loaded as float64), with the
    error ``detector`` if given (its threshold in ``guard["error"]``) and the predictor's ``substeps``."""

    from lawful import __version__

    record = {"format": FORMAT, "network": network.name, "names": list(network.names),
              "hidden": _hidden_widths(step),
              "state_dict": _weights(step),
              "domain": domain, "guard": guard, "train": train, "config": config_toml,
              "lawful_version": __version__, "predictor_substeps": int(substeps)}
    if detector is not None:
        if "error" not in guard:
            raise ValueError("a model saved with an error detector needs its threshold guard['error']")
        record["detector"] = {"hidden": _hidden_widths(detector), "state_dict": _weights(detector)}
    path = Path(path_dir) / MODEL_FILE
    atomic_torch_save(path, record)
    return path


def load(path: str | Path | None, network=None) -> LoadedSurrogate:
    """Load the surrogate in ``path`` (a directory or ``model.pt``; ``None``: the one shipped for ``network``).
    With a ``network``, a model trained for another one is refused.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for a file that is not a surrogate, that
    misses the normalization data, or that was trained for another network.
    """
    import torch

    from lawful.burn.surrogate.model import build_step

    if not path and network is None:
        raise ValueError("name a model directory or a network whose shipped surrogate to load")
    path = Path(path) if path else shipped_dir(network.name)
    file = path / MODEL_FILE if path.is_dir() else path
    if not file.exists():
        raise FileNotFoundError(f"no surrogate model at {file}")
    try:
        record = torch.load(file, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise ValueError(f"{file} is not a lawful burn surrogate ({type(exc).__name__}: {exc})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ValueError(f"{file} is not a lawful burn surrogate (format {FORMAT!r} expected)")
    missing = [k for k in _NEEDED if k not in record]
    if missing:
        raise ValueError(f"{file} misses {', '.join(missing)}")
    if network is not None and (record["network"] != network.name
                                or tuple(record["names"]) != tuple(network.names)):
        raise ValueError(f"{file} was trained for network {record['network']} ({', '.join(record['names'])}); "
                         f"this run uses {network.name} ({', '.join(network.names)})")
    state = record["state_dict"]
    if "mean" not in state or "scale" not in state:
        raise ValueError(f"{file} misses the feature normalization data (mean, scale)")
    step = build_step(len(record["names"]), list(record["hidden"]))
    try:
        step.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{file}: weights do not fit the stored layer sizes ({exc})") from None
    step = half_precision_net(step)
    return LoadedSurrogate(step, record["network"], tuple(record["names"]), record["domain"], record["guard"],
                           record, file.parent, _load_detector(record, file), _substeps(record, file),
                           int(hashlib.sha256(file.read_bytes()).hexdigest()[:12], 16))


def _substeps(record: dict, file: Path) -> int:
    """The predictor's substeps a model was trained with (1 for files from before the setting)."""
    k = record.get("predictor_substeps", 1)
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"{file}: predictor_substeps must be a positive integer, got {k!r}")
    return k


def _hidden_widths(module) -> list[int]:
    """The hidden layer widths of a module whose ``mlp`` is a Sequential of Linear layers and activations."""
    import torch

    return [m.out_features for m in module.mlp if isinstance(m, torch.nn.Linear)][:-1]


def _weights(module) -> dict:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _load_detector(record: dict, file: Path):
    """The error detector stored in ``record`` (eval mode), or None for a model saved without one."""
    from lawful.burn.surrogate.detector import build_detector

    stored = record.get("detector")
    if stored is None:
        return None
    if "error" not in record["guard"]:
        raise ValueError(f"{file} holds an error detector but no threshold guard['error']")
    state = stored["state_dict"]
    if "mean" not in state or "scale" not in state:
        raise ValueError(f"{file} misses the error detector's feature normalization data (mean, scale)")
    det = build_detector(state["mean"].shape[0], list(stored["hidden"]))
    try:
        det.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{file}: error detector weights do not fit its stored layer sizes ({exc})") from None
    return det.float().eval()


def with_error_limit(loaded: LoadedSurrogate, limit: float | None) -> LoadedSurrogate:
    """``loaded`` with its error detector's limit set to ``limit`` (the guard refuses a zone whose predicted error
    exceeds limit × 1e-2); ``None`` keeps the model's own. A model without a detector cannot take a limit."""
    if limit is None:
        return loaded
    if not (math.isfinite(limit) and limit > 0):
        raise ValueError(f"error limit must be a positive finite number, got {limit!r}")
    if loaded.detector is None:
        raise ValueError(f"{loaded.path} has no error detector (trained before it existed, or with detector = "
                         "false); an error limit needs one")
    return dataclasses.replace(loaded, guard={**loaded.guard, "error": math.log10(limit)})


def half_precision_net(step):
    """Inference layout: the MLP in float32 (half the cost; its output needs ~1e-4 precision, not 1e-16), the
    standardization, the composition map, the binding energies and the trust threshold in float64 (exact
    bookkeeping)."""
    step = step.float().eval()
    for name in ("mean", "scale", "A", "binding", "trust"):
        setattr(step, name, getattr(step, name).double())
    return step


def export_torchscript(loaded: LoadedSurrogate, path: Path | None = None) -> Path:
    """Trace the step to TorchScript (``surrogate.ts``) for compiled hydro codes; returns its path.

    The traced module takes (ρ [N], T [N], X [N, n], Δt [N], ΔX_p [N, n], eX_p [N, n]) float64, ΔX_p and eX_p
    being the change of one RODAS3 step and its embedded error estimate (:mod:`lawful.burn.surrogate.predictor`;
    the host code computes them with its own network), and returns
    (X_new [N, n], ε [N] erg/g, clipped mass [N], ΔX [N, n]).
    """
    import torch

    n = len(loaded.names)
    example = (torch.full((4,), 1e7, dtype=torch.float64), torch.full((4,), 3e9, dtype=torch.float64),
               torch.full((4, n), 1.0 / n, dtype=torch.float64), torch.full((4,), 1e-5, dtype=torch.float64),
               torch.zeros((4, n), dtype=torch.float64), torch.zeros((4, n), dtype=torch.float64))
    with torch.no_grad():
        traced = torch.jit.trace(loaded.step, example, check_trace=False)
    path = Path(path) if path else loaded.path / EXPORT_FILE
    _save_script(traced, path)
    return path


def export_detector(loaded: LoadedSurrogate, path: Path | None = None) -> Path:
    """Trace the error detector to TorchScript (``detector.ts``); returns its path. It takes the features
    [N, F] float32 of :func:`lawful.burn.surrogate.detector.features` and returns the predicted log10 error score
    [N] (before the floor that :func:`~lawful.burn.surrogate.detector.predict` applies); the guard refuses a zone
    above ``guard["error"]``, stored in the model record."""
    import torch

    if loaded.detector is None:
        raise ValueError(f"{loaded.path} has no error detector to export")
    example = torch.zeros((4, loaded.detector.mean.shape[0]), dtype=torch.float32)
    with torch.no_grad():
        traced = torch.jit.trace(loaded.detector, example, check_trace=False)
    path = Path(path) if path else loaded.path / DETECTOR_EXPORT_FILE
    _save_script(traced, path)
    return path


def _save_script(traced, path: Path) -> None:
    import torch

    buf = io.BytesIO()
    torch.jit.save(traced, buf)
    atomic_write_bytes(path, buf.getvalue())
