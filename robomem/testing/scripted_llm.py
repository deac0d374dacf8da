"""A real OpenAI-compatible HTTP server on 127.0.0.1 whose replies are scripted, for tests and benchmarks.

It speaks enough of the API for the ``openai`` SDK (and so for any robomem LLM client): ``POST
/v1/chat/completions``, ``POST /v1/embeddings`` and ``GET /v1/models``. Chat replies come from :class:`Rule`
objects tried in order against each request, then from a default reply. Embeddings are deterministic
hashed vectors (:class:`robomem.testing.hashing.HashingEmbedder`: lexical, so similar texts are near), of
``embedding_dim`` dimensions (per model: ``embedding_dims``; or the request's ``dimensions``), as floats or
base64 as asked; rules with ``endpoint="embeddings"`` script their errors and delays. Every request is
recorded (parsed JSON body plus headers) for assertions. :class:`Rule` and :class:`RecordedRequest` are
defined in :mod:`robomem.testing.scripted_requests` and importable from here.

    with ScriptedLLMServer([Rule(reply='{"ok": true}', contains="PLAN")]) as server:
        config = LLMConfig(model="m", base_url=server.base_url)
        ...
        assert server.chat_requests[0].model == "m"

Nothing blocks forever: delays are capped and interrupted by :meth:`ScriptedLLMServer.close`, sockets
time out, and closing joins the serving thread with a timeout.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from robomem.testing.hashing import HashingEmbedder
from robomem.testing.scripted_requests import (
    CHAT_PATH,
    EMBEDDINGS_PATH,
    MODELS_PATH,
    ROLE_HEADER,
    RecordedRequest,
    Reply,
    Rule,
)

__all__ = ("ROLE_HEADER", "RecordedRequest", "Rule", "ScriptedLLMServer")


@dataclass
class _Armed:
    rule: Rule
    remaining: int | None = field(default=None)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Handler threads may sit in a (capped, interruptible) delay; closing must not wait for them.
    block_on_close = False
    request_queue_size = 128
    owner: ScriptedLLMServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out hang up mid-reply; that is expected, not worth a traceback on stderr.
        self.owner._note_error()


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    timeout = 10.0  # socket timeout: a client that stalls mid-request cannot pin a thread
    server_version = "ScriptedLLM/1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # silent: tests read the recorded requests instead

    def _record(self, body: dict[str, Any] | None) -> RecordedRequest:
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = RecordedRequest(self.command, self.path, headers, body, time.monotonic())
        self.server.owner._append(request)
        return request

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._record(None)
        if self.path.rstrip("/") != MODELS_PATH:
            self._send_json(404, _error(404, f"no route {self.path}"))
            return
        models = [
            {"id": m, "object": "model", "created": 0, "owned_by": "scripted"}
            for m in self.server.owner.models
        ]
        self._send_json(200, {"object": "list", "data": models})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            parsed = json.loads(raw or b"null")
        except ValueError:
            parsed = None
        body = parsed if isinstance(parsed, dict) else None
        request = self._record(body)
        if self.path.rstrip("/") not in (CHAT_PATH, EMBEDDINGS_PATH):
            self._send_json(404, _error(404, f"no route {self.path}"))
            return
        if body is None:
            self._send_json(400, _error(400, "the body is not a JSON object"))
            return
        if body.get("stream"):
            self._send_json(400, _error(400, "streaming is not supported by the scripted server"))
            return
        owner = self.server.owner
        answer = owner._answer_embeddings if request.endpoint == "embeddings" else owner._answer
        status, payload, delay = answer(request)
        if delay > 0 and self.server.owner._stopping.wait(delay):
            return  # closing: hang up without answering
        self._send_json(status, payload)


def _error(status: int, message: str) -> dict[str, Any]:
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class ScriptedLLMServer:
    """Serves scripted chat completions on ``127.0.0.1:port`` (0: an ephemeral port) from a daemon thread.

    ``fixed_delay_s`` is added to every chat reply (a server that answers after L seconds, for measuring
    parallel against sequential calls) and, unless ``embedding_delay_s`` is given, to every embeddings
    reply; all delays are capped at ``max_delay_s``.
    """

    def __init__(
        self,
        rules: Sequence[Rule] = (),
        *,
        default_reply: Reply = "{}",
        fixed_delay_s: float = 0.0,
        max_delay_s: float = 30.0,
        models: Sequence[str] = ("scripted-model",),
        port: int = 0,
        embedding_dim: int = 64,
        embedding_dims: Mapping[str, int] | None = None,
        embedding_delay_s: float | None = None,
    ) -> None:
        self.default_reply = default_reply
        self.fixed_delay_s = fixed_delay_s
        self.embedding_delay_s = fixed_delay_s if embedding_delay_s is None else embedding_delay_s
        self.max_delay_s = max_delay_s
        self.models = tuple(models)
        self.embedding_dim = embedding_dim
        self.embedding_dims = dict(embedding_dims or {})
        self._port = port
        self._lock = threading.Lock()
        self._rules = [_Armed(rule, rule.times) for rule in rules]
        self._requests: list[RecordedRequest] = []
        self._errors = 0
        self._served = 0
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> ScriptedLLMServer:
        if self._httpd is not None:
            raise RuntimeError("the scripted LLM server is already started")
        httpd = _HTTPServer(("127.0.0.1", self._port), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="scripted-llm", daemon=True
        )
        self._thread.start()
        return self

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop serving: wake delayed handlers, stop the loop, close the socket, join (bounded)."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout_s)
        self._httpd = self._thread = None

    def __enter__(self) -> ScriptedLLMServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the scripted LLM server is not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """What to give ``LLMConfig.base_url`` (or ``openai.OpenAI(base_url=...)``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def __repr__(self) -> str:
        where = f"127.0.0.1:{self._httpd.server_address[1]}" if self._httpd else "stopped"
        return f"ScriptedLLMServer({where}, rules={len(self._rules)})"

    # -- scripting and inspection --------------------------------------------------------------------------

    def add(self, *rules: Rule) -> None:
        """Append rules (tried after the existing ones)."""
        with self._lock:
            self._rules.extend(_Armed(rule, rule.times) for rule in rules)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST" and r.path.rstrip("/") == CHAT_PATH]

    @property
    def embedding_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST" and r.endpoint == "embeddings"]

    @property
    def errors(self) -> int:
        """Connections that broke while being served (typically clients that timed out and hung up)."""
        with self._lock:
            return self._errors

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- used by the handler -------------------------------------------------------------------------------

    def _append(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _note_error(self) -> None:
        with self._lock:
            self._errors += 1

    def _pick(self, request: RecordedRequest) -> Rule | None:
        with self._lock:
            for armed in self._rules:
                if armed.remaining == 0 or not armed.rule.matches(request):
                    continue
                if armed.remaining is not None:
                    armed.remaining -= 1
                return armed.rule
        return None

    def _answer_embeddings(self, request: RecordedRequest) -> tuple[int, dict[str, Any], float]:
        rule = self._pick(request)
        delay = min(max(0.0, self.embedding_delay_s + (rule.delay_s if rule else 0.0)), self.max_delay_s)
        if rule is not None and rule.status >= 400:
            reply = rule.reply if isinstance(rule.reply, str) else "scripted embeddings error"
            return rule.status, _error(rule.status, reply), delay
        body = request.body or {}
        raw = body.get("input")
        if not (isinstance(raw, str) or (isinstance(raw, list) and all(isinstance(t, str) for t in raw))):
            return 400, _error(400, "input must be a string or a list of strings"), delay
        model = request.model or self.models[0]
        dim = body.get("dimensions") or self.embedding_dims.get(model, self.embedding_dim)
        if not isinstance(dim, int) or dim < 1:
            return 400, _error(400, "dimensions must be a positive integer"), delay
        vectors = HashingEmbedder(dim).embed(request.inputs)
        as_base64 = body.get("encoding_format") == "base64"
        data = [
            {
                "object": "embedding",
                "index": i,
                "embedding": (
                    base64.b64encode(np.asarray(v, dtype="<f4").tobytes()).decode("ascii")
                    if as_base64
                    else [float(x) for x in v]
                ),
            }
            for i, v in enumerate(vectors)
        ]
        tokens = sum(len(t.split()) for t in request.inputs)  # word counts stand in for tokens
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return 200, {"object": "list", "data": data, "model": model, "usage": usage}, delay

    def _answer(self, request: RecordedRequest) -> tuple[int, dict[str, Any], float]:
        rule = self._pick(request)
        reply = rule.reply if rule is not None else self.default_reply
        status = rule.status if rule is not None else 200
        delay = min(
            max(0.0, self.fixed_delay_s + (rule.delay_s if rule is not None else 0.0)), self.max_delay_s
        )
        try:
            text = reply(request) if callable(reply) else reply
        except Exception as exc:  # a broken script is reported to the client, not swallowed
            return 500, _error(500, f"scripted reply raised {type(exc).__name__}: {exc}"), delay
        if status >= 400:
            return status, _error(status, text), delay
        with self._lock:
            self._served += 1
            number = self._served
        payload: dict[str, Any] = {
            "id": f"chatcmpl-scripted-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.model or self.models[0],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": rule.finish_reason if rule is not None else "stop",
                }
            ],
        }
        if rule is None or rule.usage:
            prompt = len(request.all_text.split())
            completion = len(text.split())
            payload["usage"] = {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            }
        return status, payload, delay
