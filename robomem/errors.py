"""One exception hierarchy. Every error carries a code that names its troubleshooting section in the README
and, where there is one, the next step to take."""

from __future__ import annotations

from enum import StrEnum

__all__ = (
    "ConfigError",
    "EmbedderError",
    "EnvAdapterError",
    "EnvConnectionError",
    "EnvTimeoutError",
    "ErrorCode",
    "LLMError",
    "ModelNotInstalledError",
    "RegistryError",
    "RobomemError",
    "StoreError",
    "SuiteError",
)


class ErrorCode(StrEnum):
    CONFIG = "config"
    REGISTRY = "registry"
    ENV = "env"
    ENV_TIMEOUT = "env-timeout"
    ENV_CONNECTION = "env-connection"
    SUITE = "suite"
    INSTALL = "install"
    LLM = "llm"
    EMBEDDER = "embedder"
    STORE = "store"


class RobomemError(Exception):
    """Base class of every error robomem raises on purpose."""

    code: ErrorCode = ErrorCode.CONFIG

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.hint = hint
        super().__init__(message if hint is None else f"{message} ({hint})")


class ConfigError(RobomemError):
    """Bad configuration or command-line input. ``key`` is the dotted key at fault, when known."""

    code = ErrorCode.CONFIG

    def __init__(self, message: str, *, key: str | None = None, hint: str | None = None) -> None:
        self.key = key
        super().__init__(message if key is None else f"{key}: {message}", hint=hint)


class RegistryError(RobomemError):
    code = ErrorCode.REGISTRY


class SuiteError(RobomemError):
    """A task suite file is missing, malformed or out of date."""

    code = ErrorCode.SUITE


class EnvAdapterError(RobomemError):
    """The environment cannot serve the request (not a failed skill: those are normal step results)."""

    code = ErrorCode.ENV


class EnvTimeoutError(EnvAdapterError):
    """A skill did not finish in time; the environment has stopped it. It counts as a failed step;
    ``done`` says whether that step ended the episode (the env's step or invalid-action limit)."""

    code = ErrorCode.ENV_TIMEOUT

    def __init__(self, message: str, *, hint: str | None = None, done: bool = False) -> None:
        self.done = done
        super().__init__(message, hint=hint)


class EnvConnectionError(EnvAdapterError):
    """The robot or env server is unreachable or died."""

    code = ErrorCode.ENV_CONNECTION


class EmbedderError(RobomemError):
    """The embedder cannot produce vectors (bad model files, bad input)."""

    code = ErrorCode.EMBEDDER


class ModelNotInstalledError(EmbedderError):
    """The offline model files are not installed (robomem never downloads them at run time)."""

    code = ErrorCode.INSTALL


class StoreError(RobomemError):
    """A memory store cannot be opened or used (unreachable server, mismatched embedder, corrupt files)."""

    code = ErrorCode.STORE


class LLMError(RobomemError):
    """An LLM endpoint could not answer: timeout, refused connection, an HTTP error after retries, or a
    rejected request. Bad *content* is never an error: it comes back as an ``LLMReply`` with ``data=None``.
    The message names the role and the endpoint, never the API key."""

    code = ErrorCode.LLM

    def __init__(
        self,
        message: str,
        *,
        role: str | None = None,
        base_url: str | None = None,
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.role = role
        self.base_url = base_url
        #: The HTTP status the server answered with; ``None`` when no response came (timeout, refused).
        self.status = status
        super().__init__(message, hint=hint)
