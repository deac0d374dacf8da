"""Writes a fake ``embodiedbench`` package for the bridge server's EB backends (see test_eb_backends.py).

What is faked and why: EmbodiedBench needs AI2-THOR's Unity build, Habitat-Sim and its datasets, none of which
can be installed or run on this machine (shared/design/embodiedbench.md §9), and robomem must not ship EB
code. The fakes reproduce only the *interface* the server relies on, as documented for commit b247936
(§7 of the design notes): the constructor keywords, ``reset()`` returning ``{'head_rgb': uint8 HxWx3}``,
``step(action, reasoning='') -> (obs, reward, done, info)`` with EB's info keys and quirks
(EB-ALFRED echoes a string action as ``action_id`` and reports ``last_action_success`` as a float; EB-Habitat
accepts ints only, reports ``episode_elapsed_seconds`` as a 1-tuple and needs ``data/`` in the working
directory), ``language_skill_set`` rebuilt per episode (ALFRED appends instance skills such as
``find a Cabinet_2``), ``number_of_episodes``, ``selected_indexes`` / ``start_epi_index`` and ``close()``.
Every construction, step and close is appended to the JSON-lines file named by ``$FAKE_EB_LOG`` so tests
can check which calls really reached "EmbodiedBench". No simulation happens: a scripted two-step task.
"""

from __future__ import annotations

from pathlib import Path

_COMMON = """
import json
import os

import numpy as np


def log(**record):
    with open(os.environ["FAKE_EB_LOG"], "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\\n")


def frame(value):
    return np.full((4, 5, 3), value, dtype=np.uint8)
"""

_ALFRED = (
    _COMMON
    + """

GLOBAL = ["find a Mug", "pick up the Mug", "put down the object in hand", "find a Cabinet"]


class EBAlfEnv:
    def __init__(self, eval_set="base", exp_name="", down_sample_ratio=1.0, selected_indexes=[],
                 detection_box=False, resolution=500, recording=False):
        log(event="construct", cls="EBAlfEnv", eval_set=eval_set, selected_indexes=list(selected_indexes),
            down_sample_ratio=down_sample_ratio, resolution=resolution)
        dataset = [
            {"task": "pick_and_place_simple-Mug-None-Cabinet-%d/trial_T1" % (10 + i), "repeat_idx": 0,
             "instruction": "%s: put mug %d in a cabinet" % (eval_set, i)}
            for i in range(4)
        ]
        if 0 <= down_sample_ratio < 1:
            dataset = dataset[0:len(dataset):round(1 / down_sample_ratio)]
        if len(selected_indexes):
            dataset = [dataset[i] for i in selected_indexes]
        self.dataset = dataset
        self.number_of_episodes = len(dataset)
        self._current_episode_num = 0
        self.language_skill_set = list(GLOBAL)
        self.episode_language_instruction = ""

    def reset(self):
        assert self._current_episode_num < self.number_of_episodes
        entry = self.dataset[self._current_episode_num]
        self._current_episode_num += 1
        self.episode_language_instruction = entry["instruction"]
        scene = int(entry["task"].split("/")[0].split("-")[-1])
        # scene-specific instances are appended after every reset
        self.language_skill_set = GLOBAL + ["find a Cabinet_%d" % (scene - 8)]
        self._holding = False
        self._step = 0
        self._invalid = 0
        return {"head_rgb": frame(scene)}

    def step(self, action, reasoning=""):
        if type(action) == int:
            text = self.language_skill_set[action]
        elif type(action) == str:
            text = action
        else:
            raise NotImplementedError
        log(event="step", cls="EBAlfEnv", action=action)
        self._step += 1
        ok = text in self.language_skill_set
        self._invalid += not ok
        if text == "pick up the Mug":
            self._holding = True
        success = float(text == "put down the object in hand" and self._holding)
        info = {
            "task_success": success,
            "task_progress": np.float32(0.5 * self._holding + 0.5 * success),
            "instruction": self.episode_language_instruction,
            "env_step": self._step,
            "env_feedback": "Last action executed successfully." if ok else "Last action is invalid. Nope",
            "episode_elapsed_seconds": 0.25,
            "last_action_success": float(ok),
            "object_states": {"visible_objs": ["Mug"], "heated_objects": set()},
            "action_id": action,
            "action_description": text,
            "reasoning": reasoning,
        }
        done = bool(success) or self._step >= 30 or self._invalid >= 10  # EBAlfEnv's own limits
        # ALFRED's dense transition reward, reduced to: +1 per goal condition newly met, -0.1 otherwise.
        reward = 1.0 if text in ("pick up the Mug", "put down the object in hand") and ok else -0.1
        return {"head_rgb": frame(self._step)}, reward, done, info

    def close(self):
        log(event="close", cls="EBAlfEnv")
"""
)

_HABITAT = (
    _COMMON
    + """
import random

SKILLS = ["navigate to the table 1", "pick up the apple", "place at the table 2", "open the refrigerator"]
#: Episode i is in scene SCENE_OF[i]: three scenes, interleaved as in a dataset not sorted by scene.
SCENE_OF = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]


class Episode:
    def __init__(self, i):
        self.episode_id = str(i)  # LangRearrangeDatasetV0 numbers episodes by their position in the file
        self.instruction = "Move the apple %d to table 2." % i
        self.scene_id = "data/replica_cad/configs/scenes/v3_sc%d_staging_00.scene_instance.json" % SCENE_OF[i]


class Dataset:
    def __init__(self, n):
        self.episodes = [Episode(i) for i in range(n)]


class EpisodeIterator:
    \"\"\"What habitat-lab 0.3.0 builds from its default iterator options (shuffle and group_by_scene on,
    seed = habitat.seed = 100): the dataset's own list is shuffled in place with Python's `random` seeded
    100, then the iterator walks a copy ordered by scene (scenes in order of first appearance, episodes of a
    scene in shuffled order). The first episode is taken when the env is built.\"\"\"

    def __init__(self, episodes, seed=100):
        random.seed(seed)
        random.shuffle(episodes)  # in place: the dataset's list itself
        first_seen = {}
        for episode in episodes:
            first_seen.setdefault(episode.scene_id, len(first_seen))
        self.episodes = sorted(episodes, key=lambda e: first_seen[e.scene_id])
        self._iterator = iter(self.episodes)

    def __next__(self):
        return next(self._iterator)


class HabitatEnv:
    def __init__(self, dataset):
        self._iterator = self.episode_iterator = EpisodeIterator(dataset.episodes)
        self.current_episode = next(self._iterator)
        self._first = True

    def reset(self):
        if not self._first:
            self.current_episode = next(self._iterator)
        self._first = False
        return self.current_episode


class GymEnv:
    \"\"\"Stands for habitat's gym wrappers around RLTaskEnv: public attributes reach the core env.\"\"\"

    def __init__(self, dataset):
        self.habitat_env = HabitatEnv(dataset)
        self.number_of_episodes = len(dataset.episodes)

    def reset(self, return_info=False):
        episode = self.habitat_env.reset()
        obs = {"head_rgb": frame(int(episode.episode_id)), "joint": np.zeros(7)}
        return (obs, {"lang_goal": episode.instruction}) if return_info else obs

    def current_episode(self, all_info=False):
        return self.habitat_env.current_episode


class EBHabEnv:
    def __init__(self, eval_set="train", exp_name="", down_sample_ratio=1.0, start_epi_index=0,
                 resolution=500, recording=False):
        if not os.path.isdir("data"):
            raise FileNotFoundError("data/datasets/replica_cad/...: habitat resolves data/ from the CWD")
        log(event="construct", cls="EBHabEnv", eval_set=eval_set, start_epi_index=start_epi_index,
            down_sample_ratio=down_sample_ratio)
        self.dataset = Dataset(len(SCENE_OF))
        self.env = GymEnv(self.dataset)
        if os.environ.get("FAKE_EB_HIDE_ITERATOR"):
            del self.env.habitat_env.episode_iterator  # a habitat version whose iterator is out of reach
        self.number_of_episodes = self.env.number_of_episodes * down_sample_ratio  # a float, as in EB
        self._current_episode_num = 0
        while start_epi_index >= 1 and self._current_episode_num < start_epi_index:
            self.env.reset(return_info=False)
            self._current_episode_num += 1
        self.language_skill_set = list(SKILLS)
        self.episode_language_instruction = ""

    def current_episode(self, all_info=False):
        return self.env.current_episode(all_info)

    def reset(self):
        assert self._current_episode_num <= self.number_of_episodes
        obs, info = self.env.reset(return_info=True)
        self.episode_language_instruction = info["lang_goal"]  # what was really served
        self.episode_data = self.dataset.episodes[self._current_episode_num]  # EB's own index quirk
        self._current_episode_num += 1
        served = self.current_episode(all_info=True)
        log(event="reset", cls="EBHabEnv", episode_id=served.episode_id, scene_id=served.scene_id)
        self._holding = False
        self._step = 0
        self._invalid = 0
        return obs

    def step(self, action, reasoning=""):
        if not isinstance(action, (int, np.integer)):
            raise TypeError("Habitat's pddl_hl_action takes an int, got %r" % (action,))
        log(event="step", cls="EBHabEnv", action=action)
        self._step += 1
        text = self.language_skill_set[action]
        invalid = text == "place at the table 2" and not self._holding
        self._invalid += invalid
        self._holding = self._holding or text == "pick up the apple"
        success = text == "place at the table 2" and not invalid
        info = {
            "was_prev_action_invalid": invalid,
            "predicate_task_success": success,
            "subgoal_reward": np.float64(2.5 if success else 0.0),
            "lang_goal": self.episode_language_instruction,
            "env_feedback": "Last action is invalid." if invalid else "Last action executed successfully.",
            "env_step": self._step,
            "episode_elapsed_seconds": (0.5,),
            "action_id": action,
            "action_description": text,
            "instruction": self.episode_language_instruction,
            "last_action_success": 1 - float(invalid),
            "task_success": success,
        }
        reward = np.float64(12.5 if success else (-0.05 if invalid else 0.0))
        done = success or self._step >= 30 or self._invalid >= 10  # EBHabEnv's own limits
        return {"head_rgb": frame(self._step)}, reward, done, info

    def close(self):
        log(event="close", cls="EBHabEnv")
"""
)


def write_fake_embodiedbench(root: Path) -> Path:
    """Create the package under ``root`` (put ``root`` on the server's PYTHONPATH) and return ``root``."""
    files = {
        "embodiedbench/__init__.py": "",
        "embodiedbench/envs/__init__.py": "",
        "embodiedbench/envs/eb_alfred/__init__.py": "",
        "embodiedbench/envs/eb_alfred/EBAlfEnv.py": _ALFRED,
        "embodiedbench/envs/eb_habitat/__init__.py": "",
        "embodiedbench/envs/eb_habitat/EBHabEnv.py": _HABITAT,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
