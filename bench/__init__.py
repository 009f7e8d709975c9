"""Benchmarks of the provider, run by ``make bench`` (``python -m bench``)."""
