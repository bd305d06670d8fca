"""Benchmarks of django_occasion against a local stand-in Occasion API.

``make bench`` (``python -m benchmarks``) prints one table; the figures,
what each compares and a recorded run are in ``docs/benchmarks.rst``. These
are not tests: ``make test`` never collects them, and nothing here is timed
there.
"""
