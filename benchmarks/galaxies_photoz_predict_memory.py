"""Memory and speed of ``photoz-predict`` on a large table: the prediction written in chunks of galaxies
(``photoz_model.CHUNK``, what the command does) against the whole table at once (its anchor, the same code with
one chunk), for a forest and for the template fit, whose χ² over 1001 redshifts × 22 templates is the largest
temporary. The table is the kcorrect wheel's 10 000 SDSS galaxies repeated ``--copies`` times; the models are
trained on its first 8000. Peak memory is tracemalloc's (numpy's arrays are traced), over the prediction and
writing of ``predictions.csv`` and ``pz.h5``.

    OMP_NUM_THREADS=2 python benchmarks/galaxies_photoz_predict_memory.py [--copies 2] [--methods rf,template]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from lawful.galaxies import photoz_model
from lawful.galaxies.catalog import Catalog, sdss_galaxies
from lawful.galaxies.photoz import PhotozConfig

parser = argparse.ArgumentParser()
parser.add_argument("--copies", type=int, default=2)
parser.add_argument("--methods", default="rf,template")
args = parser.parse_args()

cat = sdss_galaxies()
big = Catalog(*(np.concatenate([getattr(cat, f.name)] * args.copies) for f in dataclasses.fields(cat)
                if f.name != "measured"), measured=cat.measured)
print(f"{len(big)} galaxies to predict; chunk = {photoz_model.CHUNK}\n")
print(f"{'method':<10}{'chunks':>10}{'seconds':>9}{'gal/s':>8}{'peak MB':>9}")
for method in args.methods.split(","):
    model = photoz_model.train(cat.subset(np.arange(8000)), PhotozConfig(method=method))
    outputs = {}
    for label, chunk in (("whole", len(big)), ("chunked", photoz_model.CHUNK)):
        with tempfile.TemporaryDirectory() as scratch:
            tracemalloc.start()
            start = time.perf_counter()
            _, _, result = photoz_model.write(Path(scratch), model, big, chunk=chunk)
            seconds = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        outputs[label] = result["z_phot"]
        print(f"{method:<10}{label:>10}{seconds:>9.1f}{len(big) / seconds:>8.0f}{peak:>9.0f}", flush=True)
    assert np.array_equal(outputs["whole"], outputs["chunked"]), "chunking changed a prediction"
