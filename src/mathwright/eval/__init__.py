"""Evaluation: grading (extraction, equivalence), metrics, reports and plots."""
