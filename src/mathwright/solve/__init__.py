"""Solving strategies: direct, cot, pot, hybrid, vote, caef loop, calculator, best-of-n."""
