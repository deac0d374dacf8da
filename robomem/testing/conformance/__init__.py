"""Conformance suites for robomem's plug-in contracts: run them against your own implementation."""

from robomem.testing.conformance.env import ENV_CHECKS, INVALID_PREFIX, run_env_suite
from robomem.testing.conformance.vector_store import (
    ALL_CHECKS,
    IN_PROCESS_CHECKS,
    PERSISTENCE_CHECKS,
    RegistryStoreFactory,
    StoreFactory,
    run_vector_store_suite,
)

__all__ = (
    "ALL_CHECKS",
    "ENV_CHECKS",
    "INVALID_PREFIX",
    "IN_PROCESS_CHECKS",
    "PERSISTENCE_CHECKS",
    "RegistryStoreFactory",
    "StoreFactory",
    "run_env_suite",
    "run_vector_store_suite",
)
