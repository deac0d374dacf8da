"""Hippocampus: spatial knowledge graph, temporal, episodic and semantic memory, updated and retrieved in
parallel by :class:`modules.hippocampus.system.MemorySystem`."""
