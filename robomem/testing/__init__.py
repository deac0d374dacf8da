"""Public test helpers for robomem's own tests and for third parties testing their plug-ins: the conformance
suites of the env and vector-store contracts (:mod:`robomem.testing.conformance`), a scripted
OpenAI-compatible server, the lexical hashing embedder.

A run uses none of it unless a config asks for the hashing embedder (``memory.embedder.type: hashing``, for
tests only)."""
