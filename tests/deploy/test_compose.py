"""deploy/compose.yaml, read with ``yaml.safe_load``: what it exposes, where memory lives, which preset runs.

No Docker daemon is needed (nor assumed): these checks read the file; test_shared_memory.py runs the same
processes natively.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from robomem.agents.robomemory_config import RoboMemoryAgentConfig
from robomem.config import load_config
from tests.deploy._files import (
    COMPOSE,
    DOCKERFILE,
    REPO,
    dockerfile_instructions,
    load_compose,
    services,
    stages,
)

SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)


def _chroma_args() -> dict[str, str]:
    chroma = services()["chroma"]
    argv = [*chroma["entrypoint"], *chroma["command"]]
    assert argv[:2] == ["chroma", "run"], argv
    flags = argv[2:]
    assert len(flags) % 2 == 0, flags
    return dict(zip(flags[::2], flags[1::2], strict=True))


def _volume_mounts(service: dict[str, Any]) -> dict[str, str]:
    """target -> source for a service's short-syntax volumes."""
    mounts = {}
    for entry in service.get("volumes", []):
        assert isinstance(entry, str), f"use the short syntax: {entry}"
        source, target, *_ = entry.split(":")
        mounts[target] = source
    return mounts


def _workdir() -> PurePosixPath:
    final = stages(dockerfile_instructions())[-1]
    workdirs = [i.args for i in final if i.name == "WORKDIR"]
    assert workdirs, "the runtime stage sets no WORKDIR"
    return PurePosixPath(workdirs[-1])


def _agent_preset() -> Path:
    command = services()["agent"]["command"]
    assert command[:2] == ["eval", "--config"], command
    return REPO / str(command[2])


def test_two_services_run_one_image_built_from_the_repository() -> None:
    found = services()
    assert set(found) == {"chroma", "agent"}
    images = {name: service["image"] for name, service in found.items()}
    assert len(set(images.values())) == 1, images
    for service in found.values():
        build = service["build"]
        assert (COMPOSE.parent / build["context"]).resolve() == REPO
        assert (REPO / build["dockerfile"]).resolve() == DOCKERFILE
        # Optional and off unless asked for: the local-llm extra compiles llama.cpp.
        assert build["args"]["LOCAL_LLM"] == "${ROBOMEM_LOCAL_LLM:-0}"


@pytest.mark.parametrize("name", ["chroma", "agent"])
def test_nothing_is_published_beyond_loopback(name: str) -> None:
    service = services()[name]
    assert service.get("network_mode") != "host"
    for port in service.get("ports", []):
        host_ip = port.get("host_ip") if isinstance(port, dict) else str(port).split(":")[0]
        assert host_ip == "127.0.0.1", f"{name} publishes {port} beyond 127.0.0.1"
    assert "privileged" not in service
    assert str(service.get("user", "robomem")).split(":")[0] not in ("root", "0")


def test_the_chroma_server_listens_inside_the_compose_network_only() -> None:
    chroma = services()["chroma"]
    args = _chroma_args()
    assert args["--host"] == "0.0.0.0"  # reachable by the agent container, and by nothing outside
    assert "ports" not in chroma
    # Its database is a named volume, and its health check probes the port it listens on.
    assert _volume_mounts(chroma)[args["--path"]] in load_compose()["volumes"]
    probe = " ".join(chroma["healthcheck"]["test"])
    assert f"http://127.0.0.1:{args['--port']}/api/v2/heartbeat" in probe


def test_memory_and_runs_live_in_named_volumes_under_the_image_workdir() -> None:
    declared = load_compose()["volumes"]
    for name, service in services().items():
        for target, source in _volume_mounts(service).items():
            assert source in declared, f"{name}: {source} is a bind mount or undeclared, not a named volume"
            assert PurePosixPath(target).is_absolute()
    agent = _volume_mounts(services()["agent"])
    workdir = _workdir()
    assert agent[str(workdir / "runs")] == "runs"  # robomem writes runs/<stamp>_<name> under the workdir
    assert agent[str(workdir / "memory")] == "memory"
    # The preset's robot memory folder is relative to the workdir, so it lands inside the memory volume.
    memory_dir = PurePosixPath(str(_preset_agent().memory.dir))
    assert not memory_dir.is_absolute()
    assert (workdir / memory_dir).is_relative_to(workdir / "memory")


def test_the_agent_waits_for_a_healthy_server() -> None:
    assert services()["agent"]["depends_on"] == {"chroma": {"condition": "service_healthy"}}


def _preset_agent() -> RoboMemoryAgentConfig:
    agent = load_config(_agent_preset()).agent
    assert isinstance(agent, RoboMemoryAgentConfig)
    return agent


def test_the_agent_runs_the_shared_memory_preset_against_the_chroma_service() -> None:
    preset = _agent_preset()
    assert preset.relative_to(REPO).as_posix() == "configs/shared_memory.yaml"
    vector = _preset_agent().memory.vector
    assert vector.type == "chroma_http"
    assert vector.host == "chroma"  # the service name resolves inside the compose network
    assert vector.port == int(_chroma_args()["--port"])
    # The image copies configs/, so the relative --config path resolves from the workdir as in a checkout.
    copies = [i.args for i in stages(dockerfile_instructions())[-1] if i.name == "COPY"]
    assert "configs configs" in copies


def test_api_keys_are_passed_through_never_written() -> None:
    for name, service in services().items():
        assert "env_file" not in service, f"{name}: keys come from the environment, not from a file"
        environment = service.get("environment", [])
        items = (
            [(key, value) for key, value in environment.items()]
            if isinstance(environment, dict)
            else [(entry.partition("=")[0], entry.partition("=")[2] or None) for entry in environment]
        )
        for key, value in items:
            if SECRET_NAME.search(key):
                assert value is None, f"{name}: {key} must be passed through (`- {key}`), not set"
    assert "OPENAI_API_KEY" in services()["agent"]["environment"]
