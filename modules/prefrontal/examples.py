"""In-context examples for the LLM planner (``agent.planner.examples: k``), keyed by action profile.

The examples are the household simulator's oracle plans in houses made only for examples
(:mod:`envs.household.examples`): they teach a profile's grammar and its preconditions (open before
taking out, put down before picking up, the appliance sequences), which is the same for the simulator,
the EmbodiedBench bridge and a robot speaking that profile. A profile with no examples (a robot's own
grammar) gets none. Action ids are not shown: they differ from house to house, the model takes them from
the current action list.
"""

from __future__ import annotations

import logging
from functools import lru_cache

__all__ = ("EXAMPLE_PROFILES", "examples_text")

log = logging.getLogger(__name__)

#: Profiles the household simulator can solve tasks of.
EXAMPLE_PROFILES = ("alfred", "habitat")


@lru_cache(maxsize=16)
def examples_text(profile: str, k: int) -> str:
    """``k`` solved tasks of ``profile``, one numbered action per line; ``""`` for ``k == 0`` or a profile
    without examples."""
    if k <= 0:
        return ""
    if profile not in EXAMPLE_PROFILES:
        log.info("no in-context examples for profile %r; the planner prompt has none", profile)
        return ""
    # Imported here: building examples runs the simulator, which a planner for another env never needs.
    from envs.household.examples import gold_examples

    blocks = []
    for i, example in enumerate(gold_examples(profile, k), 1):
        steps = "\n".join(f"  {n}. {action}" for n, action in enumerate(example.actions, 1))
        head = f'Example {i}: "{example.instruction}" (done in {len(example.actions)} actions)'
        blocks.append(f"{head}\n{steps}")
    return "\n".join(blocks)
