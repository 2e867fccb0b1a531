"""Exact arithmetic problems, operand sampling and ground truth from Python integers."""
from mathwright.arith.problem import LABELS, OP_OF_SYMBOL, OPERATORS, OPS, SYMBOLS, Operator, Problem, parse_expr
from mathwright.arith.sampling import LengthSpec, parse_spec, sample_problems, sample_with_digits

__all__ = ["OPERATORS", "Operator", "OPS", "SYMBOLS", "LABELS", "OP_OF_SYMBOL", "Problem", "parse_expr", "LengthSpec", "parse_spec", "sample_problems", "sample_with_digits"]
