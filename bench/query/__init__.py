"""Benchmark of /query/: HogQL endpoint latency against the raw chDB time of the same compiled SQL."""
