"""Benchmarks (`make bench`): each figure is printed with a reference measured in the same run.

Not collected by pytest (the modules are named bench_*.py); run with `python -m tests.benchmarks`.
"""
