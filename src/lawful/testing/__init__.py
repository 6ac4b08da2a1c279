"""Conformance checks shipped with lawful, for users' own samplers and models (see :mod:`lawful.testing.samplers`)."""

from lawful.testing.samplers import SamplerCheck, check_sampler, gaussian_free_field

__all__ = ["SamplerCheck", "check_sampler", "gaussian_free_field"]
