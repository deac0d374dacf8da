"""One exception hierarchy. Every error carries a code that names its troubleshooting section in the README
and, where there is one, the next step to take."""

from __future__ import annotations

from enum import StrEnum

__all__ = (
    "ConfigError",
    "EnvAdapterError",
    "EnvConnectionError",
    "EnvTimeoutError",
    "ErrorCode",
    "RegistryError",
    "RobomemError",
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
    """A skill did not finish in time; the environment has stopped it."""

    code = ErrorCode.ENV_TIMEOUT


class EnvConnectionError(EnvAdapterError):
    """The robot or env server is unreachable or died."""

    code = ErrorCode.ENV_CONNECTION
