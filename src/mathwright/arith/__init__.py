"""Exact arithmetic problems, operand sampling and ground truth from Python integers."""
from mathwright.arith.problem import OPS, SYMBOLS, Problem, parse_expr
from mathwright.arith.sampling import LengthSpec, parse_spec, sample_problems, sample_with_digits

__all__ = ["OPS", "SYMBOLS", "Problem", "parse_expr", "LengthSpec", "parse_spec", "sample_problems", "sample_with_digits"]
