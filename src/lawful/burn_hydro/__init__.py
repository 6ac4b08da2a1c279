"""Work that drives hydrodynamics to build or check burners: it sits above :mod:`lawful.burn` and
:mod:`lawful.hydro`, which never import it."""
