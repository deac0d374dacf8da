from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from envs.household.config import HouseholdConfig
from robomem.agents import RoboMemoryAgentConfig
from robomem.config import Config, EvalConfig, dump_config, load_config, resolve_run_dir
from robomem.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _preset(tmp_path: Path, text: str, name: str = "preset.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_come_from_the_models() -> None:
    cfg = load_config(None, [])
    assert cfg.env == HouseholdConfig()
    # Without a preset: the RoboMemory agent (configs/demo.yaml's), not the random baseline.
    assert cfg.agent == RoboMemoryAgentConfig()
    assert cfg.agent == load_config(CONFIGS / "demo.yaml", []).agent
    assert cfg.eval == EvalConfig()
    assert (cfg.eval.subsets, cfg.eval.episodes, cfg.eval.seed, cfg.eval.mode) == (None, None, 0, "episodic")
    assert (cfg.run.dir, cfg.run.name) == (None, "default")


def test_preset_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = _preset(tmp_path, "env:\n  profile: habitat\neval:\n  episodes: 3\n", "my_preset.yaml")
    cfg = load_config(path, [])
    assert isinstance(cfg.env, HouseholdConfig)
    assert (cfg.env.profile, cfg.env.max_steps) == ("habitat", HouseholdConfig().max_steps)
    assert (cfg.eval.episodes, cfg.eval.mode) == (3, "episodic")
    assert cfg.run.name == "my_preset"


def test_dotted_overrides_parse_yaml_values_and_beat_the_preset(tmp_path: Path) -> None:
    path = _preset(tmp_path, "env:\n  max_steps: 50\nrun:\n  name: from_preset\n")
    cfg = load_config(
        path, ["env.max_steps=20", "eval.subsets=[base, spatial]", "eval.episodes=null", "run.name=2024"]
    )
    assert isinstance(cfg.env, HouseholdConfig)
    assert cfg.env.max_steps == 20
    assert cfg.eval.subsets == ("base", "spatial")
    assert cfg.eval.episodes is None
    assert cfg.run.name == "2024"  # a name, even though YAML reads it as a number


def test_a_single_subset_may_be_a_string() -> None:
    assert load_config(None, ["eval.subsets=base"]).eval.subsets == ("base",)


def test_empty_sections_mean_defaults(tmp_path: Path) -> None:
    cfg = load_config(_preset(tmp_path, "env:\nagent:\neval:\n"), [])
    assert cfg.env == HouseholdConfig()
    assert cfg.eval == EvalConfig()


def test_config_is_frozen() -> None:
    cfg = load_config(None, [])
    with pytest.raises(ValidationError, match="frozen"):
        cfg.eval = EvalConfig(seed=1)  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        cfg.eval.seed = 1  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        cfg.env.max_steps = 1  # type: ignore[attr-defined]


def test_dump_keeps_plug_in_fields_and_round_trips() -> None:
    overrides = ["env.profile=habitat", "agent.type=random", "agent.seed=9", "eval.subsets=[base]"]
    cfg = load_config(None, overrides)
    data = dump_config(cfg)
    assert (data["env"]["profile"], data["env"]["max_steps"]) == ("habitat", 30)
    assert data["agent"] == {"type": "random", "seed": 9}
    assert Config.model_validate(yaml.safe_load(yaml.safe_dump(data))) == cfg


def test_run_dir_is_explicit_or_timestamped() -> None:
    now = datetime(2026, 8, 1, 12, 30, 5, tzinfo=UTC)
    assert resolve_run_dir(load_config(None, ["run.name=demo"]), now) == Path("runs/20260801T123005Z_demo")
    assert resolve_run_dir(load_config(None, ["run.dir=out/x"]), now) == Path("out/x")


@pytest.mark.parametrize("preset", sorted(p.name for p in CONFIGS.glob("*.yaml")))
def test_shipped_presets_load(preset: str) -> None:
    cfg = load_config(CONFIGS / preset, [])
    assert cfg.run.name == Path(preset).stem


def test_lifelong_preset() -> None:
    cfg = load_config(CONFIGS / "lifelong.yaml", [])
    assert isinstance(cfg.env, HouseholdConfig)
    assert (cfg.eval.mode, cfg.eval.lifelong_repeats, cfg.env.perturb_k) == ("lifelong", 2, 2)


# (preset text or None, overrides, the exact one-line message, or its start when it ends with "*":
# PyYAML's own wording may change between versions). Shared with the CLI tests.
BAD_INPUTS: list[tuple[str | None, list[str], str]] = [
    (None, ["foo=1"], "foo: unknown key"),
    (None, ["env.nope=1"], "env.nope: unknown key"),
    (
        None,
        ["env.max_steps=abc"],
        "env.max_steps: Input should be a valid integer, unable to parse string as an integer",
    ),
    (None, ["env.max_steps=0"], "env.max_steps: Input should be greater than or equal to 1"),
    (None, ["eval.episodes=0"], "eval.episodes: Input should be greater than or equal to 1"),
    (None, ["eval.mode=forever"], "eval.mode: Input should be 'episodic' or 'lifelong'"),
    (None, ["eval.subsets=[]"], "eval.subsets: Tuple should have at least 1 item after validation, not 0"),
    (None, ["eval.subsets=[base, base]"], "eval.subsets: subsets must be distinct"),
    (None, ["env.type=x"], "env.type: unknown env type 'x'; available: eb_bridge, household, ros"),
    (None, ["agent.type=x"], "agent.type: unknown agent type 'x'; available: random, robomem"),
    (
        None,
        ["agent.type=random", "agent.seed=1.5"],
        "agent.seed: Input should be a valid integer, got a number with a fractional part",
    ),
    (None, ["run.name=a/b"], "run.name: String should match pattern '^[A-Za-z0-9][A-Za-z0-9._-]*$'"),
    (None, ["env.max_steps"], "malformed override 'env.max_steps'; expected dotted.key=value"),
    (None, ["=3"], "malformed override '=3'; expected dotted.key=value"),
    (None, ["env..max_steps=3"], "env..max_steps: malformed key in override 'env..max_steps=3'"),
    (None, ["env.max_steps=[1"], "env.max_steps: invalid value '[1' (*"),
    (
        None,
        ["env.max_steps=3", "env.max_steps.x=1"],
        "env.max_steps: is not a mapping, cannot set 'env.max_steps.x'",
    ),
    (None, ["env=5"], "env: should be a mapping, got int"),
    (None, ["env.type=[1]"], "env.type: should be a string, got list"),
    (None, ["eval=[1]"], "eval: Input should be a valid dictionary or instance of EvalConfig"),
    (
        "env:\n  max_steps: many\n",
        [],
        "env.max_steps: Input should be a valid integer, unable to parse string as an integer",
    ),
    ("eval:\n  sedd: 1\n", [], "eval.sedd: unknown key"),
    ("- env\n", [], "{path}: the top level must be a mapping of sections, got list"),
    ("env: [\n", [], "{path}: invalid YAML (*"),
    (
        "env:\n  max_steps: 1\n  max_steps: 2\n  nope: 1\n  also: 2\n",
        [],
        "env.nope: unknown key (and 1 more)",
    ),
]


def bad_input_args(tmp_path: Path, preset: str | None) -> str | None:
    return None if preset is None else str(_preset(tmp_path, preset, "bad.yaml"))


@pytest.mark.parametrize(("preset", "overrides", "message"), BAD_INPUTS)
def test_bad_input_is_one_config_error_naming_the_key(
    tmp_path: Path, preset: str | None, overrides: list[str], message: str
) -> None:
    path = bad_input_args(tmp_path, preset)
    with pytest.raises(ConfigError) as caught:
        load_config(path, overrides)
    assert matches(str(caught.value), message.format(path=path))
    assert "\n" not in str(caught.value)


def matches(text: str, expected: str) -> bool:
    return text.startswith(expected[:-1]) if expected.endswith("*") else text == expected


def test_unreadable_preset(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"^cannot read config file '.*missing\.yaml': No such file or directory$"
    ):
        load_config(tmp_path / "missing.yaml", [])
    with pytest.raises(ConfigError, match=r"^cannot read config file"):
        load_config(tmp_path, [])


def test_error_carries_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, ["env.max_steps=abc"])
    assert caught.value.key == "env.max_steps"


def test_a_quoted_part_of_a_dotted_key_may_contain_dots() -> None:
    cfg = load_config(
        None,
        [
            "agent.type=robomem",
            "agent.llm={base_url: 'http://127.0.0.1:9/v1', model: m}",
            'agent.llm.roles."thalamus.summary".model=small',
        ],
    )
    llm = getattr(cfg.agent, "llm", None)
    assert llm is not None and llm.for_role("thalamus.summary").model == "small"
    assert llm.for_role("thalamus.queries").model == "m"
    with pytest.raises(ConfigError, match="malformed key"):
        load_config(None, ['agent.llm.roles."thalamus.summary.model=x'])
