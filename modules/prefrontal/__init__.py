"""Prefrontal cortex: planner and critic (contracts in :mod:`modules.prefrontal.base`, plug-ins in
:mod:`modules.prefrontal.registry`)."""
