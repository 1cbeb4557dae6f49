"""Benchmarks, one command each (`python -m bench.<name>`), and `bench.server`: the real server in a subprocess."""
