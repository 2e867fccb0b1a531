"""Turing-machine definitions (the CAEF oracle): executors and composers, defined once."""
