"""Benchmarks, run by hand: ``python -m bench``. They print figures; they are not tests."""
