"""Benchmarks: data generator, the bare-stack ceiling app, the load runner and the profiler.

Run everything with ``python -m bench.run``; see the README, "Benchmarks".
"""
