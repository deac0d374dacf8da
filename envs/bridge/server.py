#!/usr/bin/env python3
"""robomem's environment bridge server: serves one environment as JSON lines over a loopback TCP socket.

This file is standalone on purpose: standard library only, no robomem imports, Python 3.9 syntax. Copy it
into (or run it from) EmbodiedBench's conda environment, which needs Python 3.9 and cannot install robomem:

    python server.py --backend eb_alfred --port 7860
    python server.py --backend eb_habitat --port 7861 --eb-root /path/to/EmbodiedBench

robomem connects with ``env.type: eb_bridge`` (``envs/bridge/client.py``). robomem's own household simulator
plugs its backend into the same core (``python -m envs.bridge.household_server``).

Protocol (version 1), one JSON object per line (UTF-8, ``\\n``-terminated, at most 64 MiB):
    request  {"id": 7, "op": "step", "args": {"action": "find a Mug"}}
    reply    {"id": 7, "ok": true, "result": {...}}
             {"id": 7, "ok": false, "error": {"type": "bad_request", "message": "..."}}
Ops: ``hello`` -> {protocol, backend, profile, max_steps, max_invalid_actions, python}; ``subsets`` ->
[names]; ``tasks(subset)`` -> [task]; ``reset(subset, episode_index, keep_world=false, task_id=null)`` ->
observation; ``step(action)`` -> {observation, done, info, raw_info}; ``skills`` -> [texts]; ``close``
releases the simulator (the server keeps listening). An observation is {instruction, text, perception|null,
images: [base64 PNG]}; ``info`` has robomem's StepInfo keys, plus ``reward`` (the step's reward, EB
backends) and ``subgoal_reward`` (EB-Habitat). A reset that lands on another episode than the listing says
fails with ``episode_mismatch``. One client is served at a time. There is no authentication: keep it on
loopback.

Written against EmbodiedBench commit b247936 (see deploy/embodiedbench/README.md). EmbodiedBench's code is not
part of robomem: this server imports it from the user's own installation.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib
import importlib.util
import json
import math
import os
import signal
import socket
import struct
import sys
import traceback
import zlib
from typing import Any

PROTOCOL_VERSION = 1
#: Longest accepted line; a 500x500 frame is ~1 MB as base64 PNG, so this leaves room for many frames.
MAX_LINE_BYTES = 64 * 1024 * 1024
#: EmbodiedBench's per-episode limits for EB-ALFRED and EB-Habitat (`_max_episode_steps`,
#: `_max_invalid_actions`).
EB_MAX_STEPS = 30
EB_MAX_INVALID = 10
#: The reward EB's evaluator books for an action it cannot map to a skill (the planner's -1).
EB_UNKNOWN_ACTION_REWARD = -1.0
OPS = ("hello", "subsets", "tasks", "reset", "step", "skills", "close")

Json = dict[str, Any]


class BridgeError(Exception):
    """Becomes an error reply; ``kind`` is sent as ``error.type``."""

    def __init__(self, kind: str, message: str, request_id: Any = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.request_id = request_id


class Backend:
    """What the core serves. ``name``, ``profile`` and the episode limits go into ``hello``."""

    name = ""
    profile = ""
    #: Per-episode limits the backend enforces; the client tells its planner what is left of them.
    max_steps = EB_MAX_STEPS
    max_invalid_actions = EB_MAX_INVALID

    def subsets(self) -> list[str]:
        raise NotImplementedError

    def tasks(self, subset: str) -> list[Json]:
        raise NotImplementedError

    def reset(self, subset: str, episode_index: int, keep_world: bool, task_id: str | None) -> Json:
        raise NotImplementedError

    def step(self, action: Any) -> Json:
        raise NotImplementedError

    def skills(self) -> list[str]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the simulator; safe to call twice."""


# ---- protocol ------------------------------------------------------------------------------------------
def encode(message: Json) -> bytes:
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode("utf-8") + b"\n"


def error_reply(request_id: Any, kind: str, message: str) -> Json:
    return {"id": request_id, "ok": False, "error": {"type": kind, "message": message}}


def parse_request(line: bytes) -> tuple[Any, str, Json]:
    """``(id, op, args)`` of one request line; raises :class:`BridgeError` (``bad_request``)."""
    try:
        request = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise BridgeError("bad_request", f"not a JSON line: {err}") from None
    if not isinstance(request, dict):
        raise BridgeError("bad_request", "a request must be a JSON object")
    request_id, op = request.get("id"), request.get("op")
    if not isinstance(op, str) or op not in OPS:
        raise BridgeError("bad_request", "unknown op {!r}; ops: {}".format(op, ", ".join(OPS)), request_id)
    args = request.get("args", {})
    if not isinstance(args, dict):
        raise BridgeError("bad_request", "'args' must be a JSON object", request_id)
    return request_id, op, args


def _arg(args: Json, key: str, kinds: tuple[type, ...], default: Any = None, required: bool = True) -> Any:
    if key not in args:
        if required:
            raise BridgeError("bad_request", f"missing argument {key!r}")
        return default
    value = args[key]
    # bool is an int subclass: `true` is not an episode index or an action id.
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise BridgeError("bad_request", f"argument {key!r} must be {names}, got {value!r}")
    return value


def dispatch(backend: Backend, op: str, args: Json) -> Any:
    if op == "hello":
        return {
            "protocol": PROTOCOL_VERSION,
            "backend": backend.name,
            "profile": backend.profile,
            "max_steps": backend.max_steps,
            "max_invalid_actions": backend.max_invalid_actions,
            "python": "{}.{}.{}".format(*sys.version_info[:3]),
        }
    if op == "subsets":
        return backend.subsets()
    if op == "tasks":
        return backend.tasks(_arg(args, "subset", (str,)))
    if op == "reset":
        index = _arg(args, "episode_index", (int,))
        if index < 0:
            raise BridgeError("bad_request", f"episode_index must be >= 0, got {index}")
        return backend.reset(
            _arg(args, "subset", (str,)),
            index,
            _arg(args, "keep_world", (bool,), False, required=False),
            _arg(args, "task_id", (str, type(None)), None, required=False),
        )
    if op == "step":
        return backend.step(_arg(args, "action", (int, str)))
    if op == "skills":
        return backend.skills()
    backend.close()
    return None


class Server:
    """Accepts one client at a time and answers its requests in order until it disconnects."""

    def __init__(
        self,
        backend: Backend,
        host: str = "127.0.0.1",
        port: int = 0,
        crash_after_steps: int | None = None,
        log: Any = sys.stderr,
    ) -> None:
        self.backend = backend
        self.crash_after_steps = crash_after_steps
        self.steps_served = 0
        self.log = log
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(4)
        self.address = self.sock.getsockname()[:2]

    def serve_forever(self, once: bool = False) -> None:
        while True:
            conn, peer = self.sock.accept()
            self._say("client {}:{} connected".format(*peer[:2]))
            try:
                self.handle(conn)
            except OSError as err:  # the client went away mid-reply (e.g. it timed out and closed)
                self._say(f"connection lost: {err}")
            finally:
                conn.close()
            self._say("client disconnected")
            if once:
                return

    def handle(self, conn: socket.socket) -> None:
        rfile = conn.makefile("rb")
        try:
            while True:
                line = rfile.readline(MAX_LINE_BYTES + 1)
                if not line:
                    return
                if len(line) > MAX_LINE_BYTES:
                    # The rest of the line is still unread, so the stream cannot be resynchronised.
                    message = f"request line longer than {MAX_LINE_BYTES} bytes; closing"
                    conn.sendall(encode(error_reply(None, "line_too_long", message)))
                    return
                if not line.strip():
                    continue
                conn.sendall(encode(self.answer(line)))
        finally:
            rfile.close()

    def answer(self, line: bytes) -> Json:
        request_id = None
        try:
            request_id, op, args = parse_request(line)
            if op == "step":
                self.steps_served += 1
                if self.crash_after_steps is not None and self.steps_served > self.crash_after_steps:
                    self._say("--crash-after-steps reached: exiting without a reply (test option)")
                    os._exit(70)
            result = dispatch(self.backend, op, args)
            reply = {"id": request_id, "ok": True, "result": result}
            encode(reply)  # fail here, as an error reply, if the backend returned something unencodable
            return reply
        except BridgeError as err:
            return error_reply(
                request_id if request_id is not None else err.request_id, err.kind, err.message
            )
        except Exception as err:  # a backend failure is reported to the client, the server stays up
            traceback.print_exc(file=self.log)
            return error_reply(request_id, "env_error", f"{type(err).__name__}: {err}")

    def close(self) -> None:
        # shutdown() wakes a thread blocked in accept(), which close() alone does not do on Linux.
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()

    def _say(self, text: str) -> None:
        print("[bridge] " + text, file=self.log, flush=True)


# ---- EmbodiedBench backends ----------------------------------------------------------------------------
def png_base64(frame: Any) -> str:
    """A uint8 HxWx3 (or x4) array as a base64 PNG, with zlib only (EB's env always has numpy)."""
    height, width, channels = (int(n) for n in frame.shape)
    if str(frame.dtype) != "uint8" or channels not in (3, 4):
        raise BridgeError("env_error", f"head_rgb must be uint8 HxWx3/4, got {frame.dtype} {frame.shape}")
    data = frame.tobytes()
    row = width * channels
    raw = b"".join(b"\x00" + data[y * row : (y + 1) * row] for y in range(height))

    def chunk(tag: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2 if channels == 3 else 6, 0, 0, 0)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )
    return base64.b64encode(png).decode("ascii")


def plain(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-ready data: numpy scalars unwrapped, arrays summarised, anything else as text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if depth > 6:
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v, depth + 1) for v in value]
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        if tuple(value.shape) == ():
            return plain(value.item(), depth + 1)
        return f"<array {value.dtype} {tuple(value.shape)}>"
    return str(value)


class EBBackend(Backend):
    """Shared by EB-ALFRED and EB-Habitat: both iterate a fixed dataset in order and have no
    ``reset(task_id)``, so episode ``k`` is reached by building the env positioned at ``k``. Building starts
    the simulator, so the live env is reused whenever ``k`` is the next episode in order."""

    eval_sets: tuple[str, ...] = ()

    def __init__(self, exp_name: str, down_sample_ratio: float, resolution: int, images: bool) -> None:
        self.exp_name = exp_name
        self.down_sample_ratio = down_sample_ratio
        self.resolution = resolution
        self.images = images
        self._env: Any = None
        self._last_obs: Any = None  # shown again after an action that never reached EB
        self._subset = ""
        self._next = 0
        self._listing: dict[str, list[Json]] = {}
        self._skills: list[str] = []
        self._instruction = ""
        self._in_episode = False
        self._done = False
        self._steps = 0
        self._invalid = 0
        # The last EB step's outcome: an unknown action changes nothing in EB, so it reports these again.
        self._success = 0.0
        self._progress = 0.0
        self._subgoal_reward = None  # type: float | None

    # subclasses -----------------------------------------------------------------------------------------
    def check_install(self) -> None:
        raise NotImplementedError

    def construct(self, subset: str, start: int, count: int | None) -> Any:
        raise NotImplementedError

    def describe(self, env: Any, subset: str) -> list[Json]:
        """One task record per episode of ``env`` (built at episode 0), in the order its resets serve them."""
        raise NotImplementedError

    def served(self, env: Any) -> Json:
        """What ``env`` has just reset to, as far as it tells: a subset of ``{episode_id, scene}``."""
        return {}

    def send(self, env: Any, action_id: int) -> tuple[Any, Any, bool, Json]:
        raise NotImplementedError

    # Backend ----------------------------------------------------------------------------------------------
    def subsets(self) -> list[str]:
        return list(self.eval_sets)

    def tasks(self, subset: str) -> list[Json]:
        self._check_subset(subset)
        if subset not in self._listing:
            self._close_env()
            env = self.construct(subset, 0, None)
            self._env, self._subset, self._next = env, subset, 0
            self._listing[subset] = self.describe(env, subset)
        # `episode_id` (EB's own id of the episode) stays here: it is checked at reset, not part of a task.
        return [{k: v for k, v in r.items() if k != "episode_id"} for r in self._listing[subset]]

    def reset(self, subset: str, episode_index: int, keep_world: bool, task_id: str | None) -> Json:
        if keep_world:
            raise BridgeError(
                "unsupported", "EmbodiedBench always restores the scene: keep_world is not supported"
            )
        self._in_episode = False  # until EB's reset has succeeded
        count = len(self.tasks(subset))
        if episode_index >= count:
            raise BridgeError(
                "bad_request", f"episode_index {episode_index} out of range: {subset} has {count} episodes"
            )
        if not (self._env is not None and self._subset == subset and self._next == episode_index):
            self._close_env()
            self._env = self.construct(subset, episode_index, count)
            self._subset, self._next = subset, episode_index
        obs = self._env.reset()
        self._next += 1
        self._last_obs = obs
        # The instruction is what EB reset to, never the listing's copy; the two must agree.
        self._instruction = str(getattr(self._env, "episode_language_instruction", ""))
        self._check_served(self._listing[subset][episode_index])
        # EB rebuilds the skill list at every reset (e.g. `find a Cabinet_2`): never cache it across episodes.
        self._skills = [str(s) for s in self._env.language_skill_set]
        self._in_episode, self._done, self._steps, self._invalid = True, False, 0, 0
        self._success, self._progress, self._subgoal_reward = 0.0, 0.0, None
        return self._observation(obs)

    def step(self, action: Any) -> Json:
        if not self._in_episode:
            raise BridgeError("no_episode", "call reset before step")
        if self._done:
            raise BridgeError("episode_over", "the episode is over; call reset to start another")
        action_id = self._action_id(action)
        if action_id < 0:
            # Never sent to EB (Habitat takes ints only). EB's evaluator books such an action (its planner's
            # -1) as invalid with reward -1, and not as a step: it counts against the 10 invalid actions
            # only, and leaves env_step alone.
            obs, env_done, raw = self._last_obs, False, {}  # type: Any, bool, Json
            success, progress = self._success, self._progress
            # envs.skill_language.INVALID_PREFIX, spelled out: this file imports nothing of robomem.
            ok, feedback = False, f"Last action is invalid. The action {action!r} is not in the skill set."
            description, reward = str(action), EB_UNKNOWN_ACTION_REWARD  # type: str, float | None
        else:
            self._steps += 1
            obs, eb_reward, env_done, raw = self.send(self._env, action_id)
            self._last_obs = obs
            raw = plain(raw)
            success = float(raw.get("task_success") or 0.0)
            progress = float(raw.get("task_progress", 1.0 if success else 0.0) or 0.0)
            ok = bool(raw.get("last_action_success"))
            feedback = str(raw.get("env_feedback", ""))
            description = self._skills[action_id]
            reward = _number(plain(eb_reward))
            self._success, self._progress = success, progress
            if "subgoal_reward" in raw:
                self._subgoal_reward = _number(raw["subgoal_reward"])
        if not ok:
            self._invalid += 1
        self._done = (
            bool(env_done) or success >= 1.0 or self._steps >= EB_MAX_STEPS or self._invalid >= EB_MAX_INVALID
        )
        info = {
            "task_success": success,
            "task_progress": progress,
            "last_action_success": ok,
            "env_feedback": feedback,
            "env_step": self._steps,
            "action_id": action_id,
            "action_description": description,
            "instruction": self._instruction,
            "num_invalid_actions": self._invalid,
            "reward": reward,
        }
        if self._subgoal_reward is not None:
            info["subgoal_reward"] = self._subgoal_reward
        return {
            "observation": self._observation(obs, feedback),
            "done": self._done,
            "info": info,
            "raw_info": raw,
        }

    def skills(self) -> list[str]:
        return list(self._skills)

    def close(self) -> None:
        self._close_env()

    # internals --------------------------------------------------------------------------------------------
    def _check_subset(self, subset: str) -> None:
        if subset not in self.eval_sets:
            raise BridgeError(
                "bad_request", "unknown subset {!r}; available: {}".format(subset, ", ".join(self.eval_sets))
            )

    def _check_served(self, listed: Json) -> None:
        """Refuse an episode that is not the listed one: its instruction and scene would be wrong everywhere
        (planner, memory, result files) and its score would silently belong to another task."""
        served = dict(self.served(self._env), instruction=self._instruction)
        wrong = [
            k
            for k in ("episode_id", "scene", "instruction")
            if k in served and k in listed and served[k] != listed[k]
        ]
        if not wrong:
            return
        self._close_env()  # where the env stands is no longer what the listing says
        raise BridgeError(
            "episode_mismatch",
            "EB reset to episode {} (scene {!r}, {!r}), but the listing has {} at position {}: {} "
            "(EB and this server disagree on the episode order; see deploy/embodiedbench/README.md)".format(
                served.get("episode_id", "?"),
                served.get("scene", "?"),
                served["instruction"],
                listed["task_id"],
                listed["episode_index"],
                ", ".join(f"{k} {served[k]!r} != {listed[k]!r}" for k in wrong),
            ),
        )

    def _action_id(self, action: Any) -> int:
        if isinstance(action, int):
            return action if 0 <= action < len(self._skills) else -1
        try:
            return self._skills.index(action)
        except ValueError:
            return -1

    def _observation(self, obs: Any, text: str = "") -> Json:
        images = []
        frame = obs.get("head_rgb") if isinstance(obs, dict) else None
        if self.images and frame is not None:
            images.append(png_base64(frame))
        return {"instruction": self._instruction, "text": text, "perception": None, "images": images}

    def _close_env(self) -> None:
        env, self._env = self._env, None
        self._in_episode = False
        if env is not None:
            env.close()


class EBAlfredBackend(EBBackend):
    name = "eb_alfred"
    profile = "alfred"
    eval_sets = (
        "base",
        "common_sense",
        "complex_instruction",
        "spatial",
        "visual_appearance",
        "long_horizon",
    )

    def check_install(self) -> None:
        _eb_class("eb_alfred.EBAlfEnv", "EBAlfEnv")

    def construct(self, subset: str, start: int, count: int | None) -> Any:
        EBAlfEnv = _eb_class("eb_alfred.EBAlfEnv", "EBAlfEnv")  # noqa: N806
        # `selected_indexes` re-orders the (down-sampled) dataset: [k, k+1, ...] starts at k, then in order.
        selected = list(range(start, count)) if start and count is not None else []
        return EBAlfEnv(
            eval_set=subset,
            exp_name=self.exp_name,
            down_sample_ratio=self.down_sample_ratio,
            selected_indexes=selected,
            resolution=self.resolution,
        )

    def describe(self, env: Any, subset: str) -> list[Json]:
        records = []
        for i, entry in enumerate(list(getattr(env, "dataset", []))[: int(env.number_of_episodes)]):
            entry = entry if isinstance(entry, dict) else {}
            # e.g. "pick_clean_then_place_in_recep-Ladle-None-DiningTable-4/trial_T2019..." (ALFRED's naming).
            head = str(entry.get("task", "")).split("/")[0].split("-")
            scene = "FloorPlan" + head[-1] if head[-1].isdigit() else f"eb_alfred/{subset}/{i}"
            records.append(
                _task_record(self, subset, i, str(entry.get("instruction", "")), head[0] or "unknown", scene)
            )
        return records

    def send(self, env: Any, action_id: int) -> tuple[Any, Any, bool, Json]:
        # EBAlfEnv accepts the text; sending it keeps `find a Cabinet_2`-style names working across versions.
        obs, reward, done, info = env.step(self._skills[action_id])
        return obs, reward, bool(done), dict(info)


class EBHabitatBackend(EBBackend):
    name = "eb_habitat"
    profile = "habitat"
    eval_sets = (
        "base",
        "common_sense",
        "complex_instruction",
        "spatial_relationship",
        "visual_appearance",
        "long_horizon",
    )

    def check_install(self) -> None:
        spec = importlib.util.find_spec("embodiedbench")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("No module named 'embodiedbench'")
        if not os.path.exists("data"):
            # Habitat resolves `data/...` from the working directory; EB's evaluator links it the same way.
            bundled = os.path.join(next(iter(spec.submodule_search_locations)), "envs", "eb_habitat", "data")
            if not os.path.isdir(bundled):
                raise BridgeError(
                    "setup",
                    f"EB-Habitat's data is missing: no data/ in {os.getcwd()} and no {bundled} "
                    "(download it as EmbodiedBench's README says, or pass --eb-root DIR with DIR/data)",
                )
            os.symlink(bundled, "data")
            print("[bridge] linked {} -> {}".format(os.path.abspath("data"), bundled), file=sys.stderr)
        _eb_class("eb_habitat.EBHabEnv", "EBHabEnv")

    def construct(self, subset: str, start: int, count: int | None) -> Any:
        EBHabEnv = _eb_class("eb_habitat.EBHabEnv", "EBHabEnv")  # noqa: N806
        return EBHabEnv(
            eval_set=subset,
            exp_name=self.exp_name,
            down_sample_ratio=self.down_sample_ratio,
            start_epi_index=start,
            resolution=self.resolution,
        )

    def describe(self, env: Any, subset: str) -> list[Json]:
        # EB's evaluator runs while `episode_num < number_of_episodes`, a float (len * down_sample_ratio):
        # that is ceil(...) episodes, not int(...).
        count = math.ceil(float(env.number_of_episodes))
        episodes = _serving_order(env)
        if episodes is None:
            # The reset check still refuses any episode that is not the listed one.
            print(
                "[bridge] WARNING: cannot read habitat's episode iterator "
                "(env.env.habitat_env.episode_iterator); listing dataset.episodes in file order, "
                "which habitat may not serve",
                file=sys.stderr,
                flush=True,
            )
            episodes = list(getattr(getattr(env, "dataset", None), "episodes", []) or [])
        records = []
        for i in range(count):
            episode = episodes[i] if i < len(episodes) else None
            record = _task_record(
                self,
                subset,
                i,
                str(getattr(episode, "instruction", "") or ""),
                "rearrange",
                _scene(episode) or f"eb_habitat/{subset}/{i}",
            )
            if episode is not None and getattr(episode, "episode_id", None) is not None:
                record["episode_id"] = str(episode.episode_id)
            records.append(record)
        return records

    def served(self, env: Any) -> Json:
        current = getattr(env, "current_episode", None)
        if not callable(current):
            return {}
        episode = current(all_info=True)
        served = {"episode_id": str(episode.episode_id)}
        if _scene(episode):
            served["scene"] = _scene(episode)
        return served

    def send(self, env: Any, action_id: int) -> tuple[Any, Any, bool, Json]:
        obs, reward, done, info = env.step(int(action_id))  # EBHabEnv takes ints only
        return obs, reward, bool(done), dict(info)


def _serving_order(env: Any) -> list[Any] | None:
    """EB-Habitat's episodes in the order ``reset()`` serves them, or None when out of reach.

    ``EBHabEnv.reset`` takes the next episode from habitat-lab's episode iterator, which (with the default
    iterator options EB keeps) shuffled the episodes with seed ``habitat.seed`` (100) and grouped them by
    scene when the env was built; ``dataset.episodes`` is only shuffled, in place. The iterator keeps that
    order as ``episodes`` (habitat-lab 0.3.0, EB's ``CustomEpisodeIterator``). EB's gym wrappers pass public
    attributes through to habitat's RLEnv, whose ``habitat_env`` holds the iterator."""
    try:
        return list(env.env.habitat_env.episode_iterator.episodes)
    except (AttributeError, TypeError):
        return None


def _scene(episode: Any) -> str:
    return os.path.basename(str(getattr(episode, "scene_id", "") or ""))


def _number(value: Any) -> float | None:
    """A reward as a JSON number (None when EB gave something else, e.g. a non-finite value)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _eb_class(module: str, name: str) -> Any:
    """``embodiedbench.envs.<module>.<name>`` from the user's EmbodiedBench install (never shipped here)."""
    return getattr(importlib.import_module("embodiedbench.envs." + module), name)


def _task_record(
    backend: Backend, subset: str, index: int, instruction: str, task_type: str, scene: str
) -> Json:
    return {
        "task_id": f"{backend.name}/{subset}/{index}",
        "profile": backend.profile,
        "subset": subset,
        "task_type": task_type,
        "instruction": instruction,
        "scene": scene,
        "episode_index": index,
    }


# ---- command line ----------------------------------------------------------------------------------------
def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; no auth: keep it local)"
    )
    parser.add_argument("--port", type=int, default=7860, help="TCP port (0 picks a free one; default 7860)")
    parser.add_argument("--once", action="store_true", help="exit after the first client disconnects")
    parser.add_argument("--crash-after-steps", type=int, default=None, help=argparse.SUPPRESS)  # tests only


def run(backend: Backend, args: argparse.Namespace) -> int:
    """Bind, announce ``... listening on HOST:PORT`` as the first stdout line, serve until killed."""
    if args.host not in ("127.0.0.1", "localhost"):
        print(
            f"[bridge] WARNING: {args.host} is not loopback and the protocol has no authentication",
            file=sys.stderr,
        )

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    server = Server(backend, args.host, args.port, args.crash_after_steps)
    print(
        "robomem bridge ({} backend, profile {}) listening on {}:{}".format(
            backend.name, backend.profile, *server.address
        ),
        flush=True,
    )
    try:
        server.serve_forever(once=args.once)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        backend.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="robomem bridge server for EB-ALFRED and EB-Habitat.")
    parser.add_argument("--backend", required=True, choices=("eb_alfred", "eb_habitat"))
    add_server_arguments(parser)
    parser.add_argument(
        "--eb-root",
        default=None,
        help="EB's working directory, its checkout: EB-Habitat's data/ is found there (default: here)",
    )
    parser.add_argument("--exp-name", default="robomem_bridge", help="EB's exp_name (default robomem_bridge)")
    parser.add_argument(
        "--down-sample-ratio", type=float, default=1.0, help="EB's down_sample_ratio (1.0 = every episode)"
    )
    parser.add_argument("--resolution", type=int, default=500, help="frame size in pixels (EB default 500)")
    parser.add_argument(
        "--no-images", dest="images", action="store_false", help="send no frames (language-only)"
    )
    args = parser.parse_args(argv)
    if args.eb_root is not None:
        if not os.path.isdir(args.eb_root):
            parser.error(f"--eb-root {args.eb_root!r} is not a directory (EmbodiedBench's checkout)")
        os.chdir(args.eb_root)
    cls = EBAlfredBackend if args.backend == "eb_alfred" else EBHabitatBackend
    backend = cls(args.exp_name, args.down_sample_ratio, args.resolution, args.images)
    try:
        backend.check_install()
    except ImportError as err:
        print(
            f"cannot import EmbodiedBench ({err}): "
            "run this inside EmbodiedBench's conda env (conda activate embench)",
            file=sys.stderr,
        )
        return 2
    except BridgeError as err:
        print(err.message, file=sys.stderr)
        return 2
    return run(backend, args)


if __name__ == "__main__":
    sys.exit(main())
