"""Lattice field theory: φ⁴ in D = 1…4 dimensions sampled with Metropolis, heat-bath (Ising limit) and HMC."""
