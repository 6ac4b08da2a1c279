"""The Γ-method (Wolff, Comput. Phys. Commun. 156 (2004) 143), batched over observables, in numpy.

It computes what pyerrors' ``Obs.gamma_method()`` computes for equal-length replicas of one ensemble (the
automatic window with S = 2, the bias correction of τ_int, Wolff's error of τ_int), and linear error
propagation for derived observables, but on all observables at once: one real FFT over a stack of
``(K, C, N)`` fluctuations instead of K Python objects each doing its own, and no import of pyerrors (1.5 s,
longer than the analysis). ``tests/core/test_gamma.py`` checks every number against pyerrors itself.

Shapes: a primary series is ``(C, N)``: C replicas (chains) of N measurements each. An :class:`Observable` holds
its value and its fluctuations δ ``(C, N)`` about each replica's mean; a derived observable's fluctuations are
Σ_i ∂f/∂a_i δ_i, evaluated at the primaries' values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Wolff's S: the window ends where the estimated statistical error of τ_int outweighs the truncation bias
S_WOLFF = 2.0


@dataclass
class Observable:
    """A Monte Carlo estimate: ``value`` and the fluctuations ``deltas`` (C, N) that carry its error."""

    value: float
    deltas: np.ndarray

    @classmethod
    def from_series(cls, series: np.ndarray) -> Observable:
        """Primary observable of a (C, N) series: replica means weighted by length (all equal here)."""
        series = np.atleast_2d(np.asarray(series, dtype=np.float64))
        means = series.mean(axis=1)
        value = float(np.sum(series.shape[1] * means) / series.size)
        return cls(value, series - means[:, None])

    def __add__(self, other: Observable) -> Observable:
        return Observable(self.value + other.value, self.deltas + other.deltas)

    def __sub__(self, other: Observable) -> Observable:
        return Observable(self.value - other.value, self.deltas - other.deltas)

    def __mul__(self, other: Observable | float) -> Observable:
        if isinstance(other, Observable):
            return Observable(self.value * other.value, other.value * self.deltas + self.value * other.deltas)
        return Observable(self.value * other, other * self.deltas)

    def __truediv__(self, other: Observable | float) -> Observable:
        if isinstance(other, Observable):
            return Observable(self.value / other.value,
                              self.deltas / other.value - self.value / other.value**2 * other.deltas)
        return Observable(self.value / other, self.deltas / other)

    def __pow__(self, power: float) -> Observable:
        return Observable(self.value**power, power * self.value ** (power - 1) * self.deltas)

    def __neg__(self) -> Observable:
        return Observable(-self.value, -self.deltas)

    def log(self) -> Observable:
        """ln of the observable (NaN where its value is not positive, e.g. a Wilson loop lost in noise)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return Observable(float(np.log(self.value)), self.deltas / self.value)


@dataclass
class GammaResult:
    """Γ-method output of one observable: error, τ_int (updates; ½ for uncorrelated data) and its error, the
    summation window W, and the normalized autocorrelation function ρ(t) for t < N/2."""

    value: float
    error: float
    tau_int: float
    tau_int_error: float
    window: int
    rho: np.ndarray


def autocorrelation(deltas: np.ndarray) -> np.ndarray:
    """Γ(t) for t < N/2 of fluctuations ``(K, C, N)``, summed over the C replicas and divided by the number of
    pairs; one FFT over the whole stack (zero-padded so the circular correlation is the linear one)."""
    k, c, n = deltas.shape
    w_max = n // 2
    padding = n + w_max + (n + w_max) % 2
    spectrum = np.abs(np.fft.rfft(deltas, padding, axis=-1)) ** 2
    gamma = np.fft.irfft(spectrum, axis=-1)[..., :w_max].sum(axis=1)
    pairs = c * np.fft.irfft(np.abs(np.fft.rfft(np.ones(n), padding)) ** 2)[:w_max]
    pairs[pairs < 1] = 1.0
    return gamma / pairs


def gamma_method(observables: list[Observable], S: float = S_WOLFF) -> list[GammaResult]:
    """Errors and τ_int of ``observables`` (all with fluctuations of one shape (C, N)) by the automatic window."""
    deltas = np.stack([o.deltas for o in observables])
    _, c, n = deltas.shape
    big_n = c * n
    gamma = autocorrelation(deltas)
    return [_window(o.value, g, big_n, S) for o, g in zip(observables, gamma)]


def _window(value: float, gamma: np.ndarray, big_n: int, S: float) -> GammaResult:
    w_max = gamma.shape[0]
    if abs(gamma[0]) < 10 * np.finfo(float).tiny:  # no fluctuations
        return GammaResult(value, 0.0, 0.5, 0.0, 0, np.zeros(w_max))
    rho = gamma / gamma[0]
    tau_n = np.cumsum(np.concatenate(([0.5], rho[1:])))
    tau_n[tau_n <= 0.5] = 0.5 + np.finfo(np.float64).eps
    dtau_n = tau_n * 2 * np.sqrt(np.abs(np.arange(w_max) + 0.5 - tau_n) / big_n)
    dtau_n[0] = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = S / np.log((2 * tau_n[1:] + 1) / (2 * tau_n[1:] - 1))
        g_w = np.exp(-np.arange(1, len(tau) + 1) / tau) - tau / np.sqrt(np.arange(1, len(tau) + 1) * big_n)
    ends = np.flatnonzero(g_w[: w_max - 1] < 0)
    w = int(ends[0]) + 1 if ends.size and ends[0] + 1 < w_max - 1 else w_max - 1
    tau_int = tau_n[w] * (1 + (2 * w + 1) / big_n) / (1 + 1 / big_n)  # bias correction, Wolff eq. (49)
    error = np.sqrt(2 * tau_int * gamma[0] * (1 + 1 / big_n) / big_n)
    return GammaResult(value, float(error), float(tau_int), float(dtau_n[w]), w, rho)
