"""A pool of pre-started, locked-down worker processes that runs model-written code."""
