"""Compressible hydrodynamics: a conservative finite-volume Euler solver (1D/2D, passive species, γ-law or
stellar EOS) coupled to nuclear burning by Strang splitting. CGS units."""
