"""The per-configuration observables of φ⁴, by name and column (no numba: the analysis reads them too).

:func:`lawful.lattice.kernels.measure` returns a ``(C, 6)`` array with these columns: m = Σ_x φ_x, |m|, m², m⁴,
W = 2 Σ_{x,μ} φ_x φ_{x+μ} (so ∂S/∂κ = −W) and the action S.
"""

#: Columns of :func:`lawful.lattice.kernels.measure`'s output, in order.
OBSERVABLES = ("m", "abs_m", "m2", "m4", "W", "S")
#: Column indices into that output.
OBS_M, OBS_ABS_M, OBS_M2, OBS_M4, OBS_W, OBS_S = range(len(OBSERVABLES))
