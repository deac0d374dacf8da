"""Configuration of the LLM backend (``llm``): defaults for every call plus per-role overrides.

A role is the caller's name (``planner``, ``critic``, ``thalamus.summary``, ``memory.spatial.relations`` ...;
README.md, "LLMs", lists them). Overrides cascade along the dotted prefixes: for ``memory.spatial.relations``
the settings of ``memory``, then ``memory.spatial``, then ``memory.spatial.relations`` apply, each one only
where it sets a field, over the defaults.

The API key is never part of the config: only the *name* of the environment variable holding it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ("LLMConfig", "OnFailure", "RoleOverride", "RoleSettings", "StructuredOutput")

StructuredOutput = Literal["json_schema", "json_object", "none"]
#: What a failed call of a role with a deterministic counterpart means (:mod:`robomem.llm.policy`).
OnFailure = Literal["stop", "fallback"]

_ROLE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_env_name(value: str | None) -> str | None:
    # Only a variable *name* belongs here; anything else is most likely a pasted key, which must not
    # sit in a config file (nor be echoed back in the error).
    if value is not None and not _ENV_NAME.match(value):
        raise ValueError(
            "must be the name of an environment variable (the key itself never goes in a config)"
        )
    return value


def _no_inline_key(data: object) -> object:
    if isinstance(data, dict) and "api_key" in data:
        raise ValueError("api_key does not belong in a config: set api_key_env to the variable holding it")
    url = data.get("base_url") if isinstance(data, dict) else None
    if isinstance(url, str) and urlsplit(url).password is not None:  # would be saved in the run's config.yaml
        raise ValueError(
            "base_url must not carry a password: set api_key_env to the variable holding the key"
        )
    return data


#: Validation errors never echo input values: a key pasted in the wrong field must not end up in a log.
_MODEL_CONFIG = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class RoleOverride(BaseModel):
    """Settings of one role; a field left unset inherits from the shorter prefix, then the defaults."""

    model_config = _MODEL_CONFIG

    model: str | None = None
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, ge=1)
    timeout_s: float | None = Field(default=None, gt=0.0)
    base_url: str | None = None
    api_key_env: str | None = None
    structured_output: StructuredOutput | None = None
    repair_attempts: int | None = Field(default=None, ge=0, le=3)
    on_failure: OnFailure | None = None

    _inline_key = model_validator(mode="before")(_no_inline_key)

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        return _check_env_name(value)


@dataclass(frozen=True)
class RoleSettings:
    """The effective settings of one call, after the role's overrides are applied."""

    model: str
    temperature: float
    max_tokens: int
    timeout_s: float
    base_url: str | None
    api_key_env: str
    structured_output: StructuredOutput
    repair_attempts: int
    on_failure: OnFailure = "stop"


class LLMConfig(BaseModel):
    model_config = _MODEL_CONFIG

    #: ``openai``: any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp, Ollama ...). A
    #: ``robomem.llm_clients`` entry point adds more (its ``Config`` subclasses this class).
    type: str = "openai"
    #: ``None`` means the SDK default (``$OPENAI_BASE_URL``, else api.openai.com); local servers need ``/v1``.
    base_url: str | None = None
    #: The environment variable the key is read from. Local servers that need no key get a dummy one,
    #: because the SDK refuses to start without any.
    api_key_env: str = "OPENAI_API_KEY"
    model: str
    #: Explicit because the SDK's defaults (600 s, 2 retries) let one hung server stall a run for 30 min.
    timeout_s: float = Field(default=60.0, gt=0.0)
    #: Retries of a failed request (timeout, refused connection, HTTP 408/409/429/5xx), with backoff; each
    #: one is counted in ``llm_usage.json``.
    max_retries: int = Field(default=1, ge=0, le=10)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(default=1024, ge=1)
    #: How a JSON reply is requested when the caller passes a schema. ``json_schema`` falls back to
    #: ``json_object`` (then ``none``) on servers that reject it; every reply is parsed and checked locally.
    structured_output: StructuredOutput = "json_schema"
    #: Sent as ``json_schema.strict``. OpenAI's strict mode needs every property required and
    #: ``additionalProperties: false``: with it on, each schema is rewritten that way on the wire (optional
    #: properties become nullable; see :mod:`robomem.llm.strict`) and replies are read back unchanged.
    strict_schema: bool = True
    #: After a malformed JSON reply, ask again this many times with a correction message (style rule 2).
    repair_attempts: int = Field(default=1, ge=0, le=3)
    #: When a role with a deterministic counterpart (thalamus, memory operations) fails — the endpoint cannot
    #: be reached, or its reply is unusable after the repairs: ``stop`` the run with an ``[llm]`` error
    #: (``--resume`` continues it), or ``fallback`` to the deterministic operation, counted per role in
    #: ``llm_usage.json``. Per role: ``roles."memory.lessons".on_failure``. See :mod:`robomem.llm.policy`.
    on_failure: OnFailure = "stop"
    #: Calls in flight at once from one client, across all threads.
    concurrency: int = Field(default=4, ge=1, le=256)
    roles: dict[str, RoleOverride] = Field(default_factory=dict)

    _inline_key = model_validator(mode="before")(_no_inline_key)

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        _check_env_name(value)
        return value

    @field_validator("roles")
    @classmethod
    def _role_names(cls, value: dict[str, RoleOverride]) -> dict[str, RoleOverride]:
        for name in value:
            if not _ROLE.match(name):
                raise ValueError(f"bad role name {name!r}: use dotted words such as 'memory.episodic'")
        return value

    def for_role(self, role: str) -> RoleSettings:
        """The settings of ``role``: defaults, then each configured dotted prefix from shortest to longest."""
        settings = RoleSettings(
            model=self.model,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            timeout_s=self.timeout_s,
            base_url=self.base_url,
            api_key_env=self.api_key_env,
            structured_output=self.structured_output,
            repair_attempts=self.repair_attempts,
            on_failure=self.on_failure,
        )
        parts = role.split(".")
        for end in range(1, len(parts) + 1):
            override = self.roles.get(".".join(parts[:end]))
            if override is not None:
                settings = replace(settings, **override.model_dump(exclude_none=True))
        return settings
