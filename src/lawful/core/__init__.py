"""Domain-independent machinery: seeds and streams, configs, HDF5 I/O with provenance, atomic checkpoints,
progress display and executors. Nothing here imports another part of lawful."""
