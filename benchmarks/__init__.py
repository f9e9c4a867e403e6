"""Benchmarks for the GAN playground: `make bench` (python -m benchmarks.run_all) runs them all.

Each module prints one JSON line and writes benchmarks/results/<name>.json. The machine is shared,
so each figure that has a target is a ratio or percentile measured against a reference in the same run.
"""
