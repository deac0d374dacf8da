"""Presets that build on another preset (``extends:``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from envs.household.config import HouseholdConfig
from robomem.config import load_config
from robomem.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_preset_overrides_only_what_it_names_over_its_base(tmp_path: Path) -> None:
    _write(tmp_path, "base/base.yaml", "env:\n  profile: habitat\n  max_steps: 7\neval:\n  episodes: 3\n")
    child = _write(tmp_path, "child.yaml", "extends: base/base.yaml\nenv:\n  max_steps: 9\n")
    cfg = load_config(child, ["eval.seed=4"])
    assert isinstance(cfg.env, HouseholdConfig)
    assert (cfg.env.profile, cfg.env.max_steps) == ("habitat", 9)  # merged key by key
    assert (cfg.eval.episodes, cfg.eval.seed) == (3, 4)
    assert cfg.run.name == "child"  # the preset named on the command line, not its base


def test_the_chain_resolves_relative_to_each_preset(tmp_path: Path) -> None:
    _write(tmp_path, "a/grand.yaml", "eval:\n  episodes: 2\n  seed: 1\n")
    _write(tmp_path, "a/b/parent.yaml", "extends: ../grand.yaml\neval:\n  seed: 5\n")
    child = _write(tmp_path, "child.yaml", "extends: a/b/parent.yaml\nenv:\n  max_steps: 3\n")
    cfg = load_config(child, [])
    assert isinstance(cfg.env, HouseholdConfig)
    assert (cfg.eval.episodes, cfg.eval.seed, cfg.env.max_steps) == (2, 5, 3)


def test_another_plug_in_type_replaces_the_base_section(tmp_path: Path) -> None:
    # The base's household-only keys must not leak into an eb_bridge env (they would be unknown keys).
    _write(tmp_path, "base.yaml", "env:\n  type: household\n  perturb_k: 2\n  max_steps: 30\n")
    child = _write(tmp_path, "child.yaml", "extends: base.yaml\nenv:\n  type: eb_bridge\n  port: 7861\n")
    cfg = load_config(child, [])
    assert cfg.env.type == "eb_bridge"  # type: ignore[attr-defined]
    assert cfg.env.port == 7861  # type: ignore[attr-defined]


def test_a_null_in_the_preset_replaces_the_base_value(tmp_path: Path) -> None:
    _write(tmp_path, "base.yaml", "agent:\n  type: robomem\n  critic: {type: deterministic}\n")
    child = _write(tmp_path, "child.yaml", "extends: base.yaml\nagent:\n  critic: null\n")
    assert load_config(child, []).agent.critic is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"c.yaml": "extends: nope.yaml\n"}, "does not exist"),
        ({"c.yaml": "extends: [a.yaml]\n"}, "should be the path of another preset"),
        ({"c.yaml": "extends: d.yaml\n", "d.yaml": "extends: c.yaml\n"}, "cycle"),
        ({"c.yaml": "extends: c.yaml\n"}, "cycle"),
    ],
)
def test_bad_extends_is_one_config_error(tmp_path: Path, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        _write(tmp_path, name, text)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "c.yaml", [])
    assert caught.value.key == "extends"
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_eb_presets_keep_a_long_run_going_on_unusable_memory_replies() -> None:
    # Memory and thalamus roles fall back (counted); planner and critic, and the paper preset itself, stop.
    for name in ("eb_bridge_alfred", "eb_bridge_habitat"):
        llm = load_config(f"configs/{name}.yaml", []).agent.llm  # type: ignore[attr-defined]
        assert llm.for_role("memory.spatial.update").on_failure == "fallback"
        assert llm.for_role("memory.lessons").on_failure == "fallback"
        assert llm.for_role("thalamus.summary").on_failure == "fallback"
        assert llm.for_role("planner").on_failure == "stop"
    paper = load_config("configs/robomemory.yaml", []).agent.llm  # type: ignore[attr-defined]
    assert paper.for_role("memory.spatial.update").on_failure == "stop"
