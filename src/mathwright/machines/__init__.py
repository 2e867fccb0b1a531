"""Turing-machine definitions (the CAEF oracle): executors and composers, defined once, and the rule-based aligners around them."""
