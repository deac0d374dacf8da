"""The real tiny local LLM (SmolLM2-135M behind llama.cpp's server) end to end, plus the offline helpers.

Tests marked ``local_llm`` start real servers on 127.0.0.1; `make test` installs what they need, so a
missing install fails them (with the install command) rather than skipping. ``pytest -m "not local_llm"``
leaves them out for fast runs.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import openai
import pytest
import yaml
from pydantic import BaseModel, ConfigDict

from envs.base import Env, Observation
from envs.task import Task
from robomem.agents import AGENTS
from robomem.agents.base import Agent, EpisodeStats
from robomem.cli.main import main
from robomem.config import apply_overrides
from robomem.errors import ErrorCode, LLMError
from robomem.llm import LLMAccounting, LLMConfig, LLMReply, OpenAICompatClient, text_message
from robomem.llm.local import (
    LOCAL_MODEL,
    LocalLLMNotInstalledError,
    LocalLLMServer,
    local_llm_config,
    local_llm_overrides,
    smollm2_gguf_path,
)
from tests.robomem.scripted_env import registered_test_env

ACTIONS = ("pick up the apple", "open the fridge", "go to the table")
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "action_id": {"type": "integer"},
        "action_name": {"type": "string", "enum": list(ACTIONS)},
    },
    "required": ["action_id", "action_name"],
    "additionalProperties": False,
}
TASKS = (
    "put the apple in the fridge",
    "put the apple on the table",
    "find a cold apple",
    "bring the apple to the kitchen table",
    "open the fridge",
)
#: Far above what each call needs (0.5-1.5 s on two cores, idle or busy): only a hang guard.
CALL_BOUND_S = 120.0


def _ask(task: str) -> list[dict[str, Any]]:
    menu = "\n".join(f"{i}: {name}" for i, name in enumerate(ACTIONS))
    return [
        text_message("system", "You are a household robot. Reply with one JSON object."),
        text_message("user", f"Task: {task}.\nActions:\n{menu}\nChoose the next action."),
    ]


# -- offline: no server ---------------------------------------------------------------------------------


def test_missing_model_fails_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(name: str) -> None:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "files", not_installed)
    with pytest.raises(LocalLLMNotInstalledError, match="make local-llm") as info:
        smollm2_gguf_path()
    assert info.value.code is ErrorCode.INSTALL
    with pytest.raises(LocalLLMNotInstalledError, match="make local-llm"), LocalLLMServer():
        pass


def test_config_points_every_role_at_the_server() -> None:
    url = "http://127.0.0.1:5/v1"
    config = local_llm_config(url)
    for role in ("planner", "critic", "memory.relations"):
        settings = config.for_role(role)
        assert (settings.base_url, settings.model) == (url, LOCAL_MODEL)
        assert settings.structured_output == "json_object"
    assert (config.max_retries, config.concurrency, config.max_tokens) == (0, 1, 256)
    assert config.api_key_env != "OPENAI_API_KEY"  # a real key never goes to the local server


def test_overrides_reset_the_endpoint_of_every_configured_role() -> None:
    url = "http://127.0.0.1:5/v1"
    raw: dict[str, Any] = {
        "model": "gpt-big",
        "base_url": "https://example.invalid/v1",
        "roles": {
            "planner": {"model": "gpt-bigger", "base_url": "https://other.invalid/v1", "max_tokens": 99},
            "thalamus.summary": {"model": "gpt-small", "base_url": "https://other.invalid/v1"},
        },
    }
    overrides = local_llm_overrides(url, roles=("planner", "thalamus.summary"), prefix="llm")
    config = LLMConfig.model_validate(
        apply_overrides({"llm": raw}, overrides)["llm"]
    )  # the config loader's way
    planner = config.for_role("planner")
    assert (planner.base_url, planner.model, planner.max_tokens) == (url, LOCAL_MODEL, 99)
    summary = config.for_role("thalamus.summary")  # a dotted role name stays one key
    assert (summary.base_url, summary.model) == (url, LOCAL_MODEL)
    assert config.model_dump(exclude={"roles"}) == local_llm_config(url).model_dump(exclude={"roles"})


@pytest.fixture
def no_local_server(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_server(*args: object, **kwargs: object) -> None:
        raise AssertionError("the server must not start for a config that cannot use it")

    monkeypatch.setattr("robomem.llm.local.LocalLLMServer", no_server)


@pytest.mark.usefixtures("no_local_server")
def test_cli_refuses_an_agent_without_an_llm_before_starting_anything(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["eval", "--llm", "local", "agent.type=random", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "robomem: error [config]: agent.type: --llm local needs an agent that uses an LLM"
    ), err
    assert "'random' has none" in err


# -- the real server --------------------------------------------------------------------------------------


def _start(tmp: Path, **options: Any) -> LocalLLMServer:
    server = LocalLLMServer(log_path=tmp / "server.log", **options)
    try:
        server.start()
    except LocalLLMNotInstalledError as err:
        missing = str(err)
    else:
        return server
    pytest.fail(f"{missing}; `make test` installs it", pytrace=False)


@pytest.fixture(scope="session")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalLLMServer]:
    server = _start(tmp_path_factory.mktemp("local-llm"))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def client(local_server: LocalLLMServer) -> Iterator[OpenAICompatClient]:
    with OpenAICompatClient(local_llm_config(local_server.base_url), accounting=LLMAccounting()) as made:
        yield made


@pytest.mark.local_llm
def test_plain_completion_returns_text(client: OpenAICompatClient) -> None:
    started = time.monotonic()
    reply = client.complete([text_message("user", "Name one fruit.")], role="planner")
    assert time.monotonic() - started < CALL_BOUND_S
    assert reply.text.strip()
    assert reply.completion_tokens > 0
    assert reply.extra["response_format"] == "none"


@pytest.mark.local_llm
def test_schema_constrained_calls_complete_and_mostly_parse(
    client: OpenAICompatClient, request: pytest.FixtureRequest
) -> None:
    replies: list[LLMReply] = []
    started = time.monotonic()
    for task in TASKS:
        replies.append(client.complete(_ask(task), role="planner", schema=SCHEMA, schema_name="action"))
    elapsed = time.monotonic() - started
    assert elapsed < CALL_BOUND_S * len(TASKS)
    parsed = [reply.data for reply in replies if reply.data is not None]
    tokens = sum(reply.completion_tokens for reply in replies)
    measured = {"parsed_fraction": len(parsed) / len(replies), "seconds_per_call": elapsed / len(replies)}
    measured["completion_tokens_per_s"] = tokens / elapsed
    request.node.user_properties.extend(measured.items())  # in --junitxml reports; printed for -rP
    print(" ".join(f"{key}={value:.2f}" for key, value in measured.items()))
    # The server takes the schema as a grammar on the first try: no fallbacks.
    assert {reply.extra["response_format"] for reply in replies} == {"json_object+schema"}
    for reply in replies:
        assert reply.data is not None or reply.error, reply  # a counted malformed reply, never silence
    for data in parsed:
        assert isinstance(data["action_id"], int)
        assert data["action_name"] in ACTIONS
    # Grammar-constrained output is valid JSON unless cut off by max_tokens; this one is short.
    assert parsed, [reply.text for reply in replies]
    assert client.accounting is not None
    planner = client.accounting.snapshot()["roles"]["planner"]
    assert planner["calls"] == len(TASKS)
    assert planner["transport_errors"] == planner["fallbacks"] == 0
    assert planner["malformed_replies"] == len(TASKS) - len(parsed)


@pytest.mark.local_llm
def test_the_server_rejects_json_schema_with_http_500(local_server: LocalLLMServer) -> None:
    """Why ``local_llm_settings`` starts at ``json_object``: this server version answers ``json_schema``
    with HTTP 500 (its request validation error), which clients do not read as "unsupported"."""
    sdk = openai.OpenAI(base_url=local_server.base_url, api_key="x", max_retries=0, timeout=30.0)
    with sdk, pytest.raises(openai.InternalServerError, match="json_object"):
        sdk.chat.completions.create(
            model=LOCAL_MODEL,
            messages=[{"role": "user", "content": "hi"}],
            max_tokens=8,
            response_format={"type": "json_schema", "json_schema": {"name": "r", "schema": SCHEMA}},
        )


@pytest.mark.local_llm
def test_server_is_gone_after_close(tmp_path: Path) -> None:
    with _start(tmp_path) as server:
        pid, url = server.pid, server.base_url
        assert pid is not None and url.startswith("http://127.0.0.1:")
    assert server.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(LLMError, match="not running"):
        _ = server.base_url


@pytest.mark.local_llm
def test_a_broken_model_file_fails_fast_with_the_server_output(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a gguf file")
    started = time.monotonic()
    with pytest.raises(LLMError, match="exited with code") as info:
        _start(tmp_path, model_path=bogus, start_timeout_s=60.0)
    assert time.monotonic() - started < 60.0
    assert "bogus.gguf" in str(info.value)


# -- `robomem eval --llm local` with an agent that asks the LLM for every action --------------------------


class LLMProbeConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["llm_probe"] = "llm_probe"
    llm: LLMConfig


class LLMProbeAgent(Agent):
    """Asks the LLM for each action (as a skill-name enum); a malformed reply plays the first skill."""

    def __init__(self, config: LLMProbeConfig) -> None:
        self.config = config
        self.replies: list[LLMReply] = []

    def run_episode(
        self, env: Env, task: Task, observation: Observation, *, episode_id: str = ""
    ) -> EpisodeStats:
        schema = {
            "type": "object",
            "properties": {"action": {"type": "string", "enum": list(env.skills)}},
            "required": ["action"],
        }
        errors = 0
        with OpenAICompatClient(self.config.llm) as llm:
            while True:
                prompt = f"Task: {task.instruction}. Skills: {', '.join(env.skills)}. Pick one."
                reply = llm.complete([text_message("user", prompt)], role="planner", schema=schema)
                self.replies.append(reply)
                errors += reply.data is None
                action = reply.data["action"] if reply.data is not None else 0
                if env.step(action).done:
                    return EpisodeStats(planner_steps=len(self.replies), planner_output_error=errors)


@pytest.mark.local_llm
def test_eval_with_the_local_llm_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    agents: list[LLMProbeAgent] = []

    def build(config: LLMProbeConfig, **options: object) -> LLMProbeAgent:  # options: e.g. fresh_memory
        agents.append(LLMProbeAgent(config))
        return agents[-1]

    preset = tmp_path / "probe.yaml"
    preset.write_text(
        "env:\n  type: scripted_test\nagent:\n  type: llm_probe\n  llm:\n    model: gpt-not-here\n"
        "    roles:\n      planner: {base_url: 'https://example.invalid/v1', max_tokens: 64}\n",
        encoding="utf-8",
    )
    AGENTS.add("llm_probe", build, LLMProbeConfig)
    try:
        with registered_test_env():
            argv = ["eval", "--config", str(preset), "--llm", "local", "--subset", "base", "--episodes", "1"]
            code = main([*argv, "--run-dir", "out", "--no-progress"])
    finally:
        AGENTS.unregister("llm_probe")
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err.startswith(f"robomem: local LLM {LOCAL_MODEL} (llama.cpp) at http://127.0.0.1:"), err
    assert out.startswith("base  n=1  SR ")
    saved = yaml.safe_load((tmp_path / "out" / "config.yaml").read_text(encoding="utf-8"))["agent"]["llm"]
    assert saved["model"] == LOCAL_MODEL and saved["base_url"].startswith("http://127.0.0.1:")
    planner = saved["roles"]["planner"]  # its endpoint and model reset, its own budget kept
    assert (planner["base_url"], planner["model"], planner["max_tokens"]) == (None, None, 64)
    (agent,) = agents
    assert agent.replies and all(reply.model for reply in agent.replies)
    assert any(reply.data is not None for reply in agent.replies), [r.text for r in agent.replies]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["overall"]["n"] == 1


@pytest.mark.usefixtures("no_local_server")
def test_cli_refuses_an_agent_whose_roles_are_all_offline(capsys: pytest.CaptureFixture[str]) -> None:
    # The robomem agent's defaults: symbolic planner, deterministic critic, thalamus and memory.
    assert main(["eval", "--llm", "local", "agent.type=robomem", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "agent.planner.type: --llm local would serve nobody" in err, err
