"""Hippocampus: spatial knowledge graph, temporal, episodic and semantic memory (filled by issue #3)."""

__all__: tuple[str, ...] = ()
