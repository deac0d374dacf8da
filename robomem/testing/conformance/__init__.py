"""Conformance suites for robomem's plug-in contracts: run them against your own implementation."""

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
    "IN_PROCESS_CHECKS",
    "PERSISTENCE_CHECKS",
    "RegistryStoreFactory",
    "StoreFactory",
    "run_vector_store_suite",
)
