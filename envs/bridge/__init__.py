"""The out-of-process environment bridge: ``server.py`` (standalone, runs inside EmbodiedBench's Python 3.9
environment) serves an environment as JSON lines over loopback TCP; :class:`BridgeEnv` (``env.type:
eb_bridge``) is robomem's side of it."""

from envs.bridge.client import BridgeEnv
from envs.bridge.config import BridgeConfig

__all__ = ("BridgeConfig", "BridgeEnv")
