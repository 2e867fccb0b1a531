"""mathwright: teach language models to compute, and prove it by measurement.

Pipeline: problems (``arith``) -> text formats (``formats``, rendered from ``machines``) ->
datasets (``data``) -> training (``train``) -> solving (``solve``, ``sandbox``) -> evaluation (``eval``).
"""
import sys as _sys

__version__ = "0.1.0"

# Exact arithmetic on very long integers: lift CPython's 4300-digit int<->str cap in this process.
# (The PoT sandbox keeps the default cap; it runs in its own worker processes.)
_sys.set_int_max_str_digits(0)
