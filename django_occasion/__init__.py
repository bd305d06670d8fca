"""Occasion booking platform products on Django sites."""

__version__ = "0.1.0"
