"""Benchmarks: `python -m bench <name>` runs bench/<name>.py (`python -m bench` lists them)."""
