"""The nine word-problem benchmarks, registered by name, loaded into one problem schema."""
