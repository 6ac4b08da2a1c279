"""Neural surrogate of one constant-density burn step, behind a guard.

``data`` generates training states with the implicit integrator, ``model`` holds the network and the map that
puts its output on the simplex, ``train`` fits it, ``guard`` checks every step and falls back to the implicit
integrator, ``evaluate`` measures it on held-out states, ``shipped`` finds the models that ship with lawful.
"""
