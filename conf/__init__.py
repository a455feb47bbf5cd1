"""Hydra configs, importable as `runner.conf` when installed from a wheel (pkg://runner.conf)."""
