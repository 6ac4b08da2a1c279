"""Nuclear burning: reaction networks from pynucastro, a stellar EOS and a batched implicit integrator (CGS)."""
