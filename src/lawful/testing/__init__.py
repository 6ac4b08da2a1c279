"""Conformance checks shipped with lawful, for users' own samplers and models: :func:`check_sampler` (a learned
sampler behind the MH guard reproduces the exact free field), :func:`check_surrogate` (a burn-surrogate step
keeps ΣX = 1, X ≥ 0, mass, charge and its energy bookkeeping whatever its weights) and :func:`check_potential`
(an interatomic potential's symmetries, derivatives, locality and cutoff, through its ASE calculator)."""

from lawful.testing.potentials import Check, PotentialCheck, check_potential, noisy_forces
from lawful.testing.samplers import SamplerCheck, check_sampler, gaussian_free_field
from lawful.testing.surrogates import SurrogateCheck, check_surrogate

__all__ = ["Check", "PotentialCheck", "SamplerCheck", "SurrogateCheck", "check_potential", "check_sampler",
           "check_surrogate", "gaussian_free_field", "noisy_forces"]
