"""Benchmarks: runnable scripts, not a package robomem ships."""
