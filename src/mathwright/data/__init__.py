"""Datasets: generation (streaming, workers, splits), IO, and the word-problem benchmarks."""
