"""Spatial memory: a per-site dynamic knowledge graph (RoboMemory §3.3, Algorithm 2)."""

from modules.hippocampus.spatial.config import SpatialConfig
from modules.hippocampus.spatial.graph import Change, EdgeKey, SiteGraph
from modules.hippocampus.spatial.memory import SpatialMemory
from modules.hippocampus.spatial.model import (
    Belief,
    EdgeData,
    HistoryRecord,
    NodeData,
    NodeState,
    SpatialRecall,
    Stamp,
    StateData,
)

__all__ = (
    "Belief",
    "Change",
    "EdgeData",
    "EdgeKey",
    "HistoryRecord",
    "NodeData",
    "NodeState",
    "SiteGraph",
    "SpatialConfig",
    "SpatialMemory",
    "SpatialRecall",
    "Stamp",
    "StateData",
)
