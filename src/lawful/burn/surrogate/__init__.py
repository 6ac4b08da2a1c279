"""Neural surrogate of one constant-density burn step, behind a guard.

``data`` burns training states with the implicit integrator (:mod:`lawful.burn_hydro.training_data` adds hydro
zone-steps), ``model`` holds the network and the map that puts its output on the simplex, ``train`` fits it,
``guard`` checks every step and falls back to the implicit integrator, ``detector`` predicts a step's error,
``evaluate`` measures it on held-out states, ``store`` saves, loads and exports models and finds the ones that
ship with lawful.
"""
