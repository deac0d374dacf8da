"""The LLM planner: EmbodiedBench's planner prompt and JSON plan, with RoboMemory's retrieved memory and the
critic's reflection added (the paper's Planner P).

One call per plan, plus at most ``max_retries`` correction turns when the reply is unusable (no JSON object,
no ``executable_plan``, or a first action outside the skill list). The model is asked for all of EB's keys,
but, as in EB, only ``executable_plan`` is needed: a reply without its reasoning is still a plan. Bad content
never raises: after the retries it becomes ``Plan(output_error=True)`` with the raw reply kept. Transport
failures (:class:`robomem.errors.LLMError`) propagate; the agent loop decides what they mean.
"""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from modules.prefrontal.base import Plan, PlanningInput
from modules.prefrontal.examples import examples_text
from modules.prefrontal.parsing import ESSENTIAL_KEYS, ParsedPlan, parse_plan, plan_schema
from modules.prefrontal.prompting import (
    budget_line,
    clip,
    history_section,
    memory_section,
    render,
    section,
    temporal_last_step,
    user_message,
)
from robomem.llm.base import ChatMessage, LLMClient, text_message

__all__ = ("LLMPlanner", "LLMPlannerConfig")

log = logging.getLogger(__name__)

ROLE = "planner"
_VISUAL_KEY = '\n  "visual_state_description": "<what the image shows that matters for the task>",'
#: A reply echoed back in a correction turn is cut to this many characters (it is only context).
_ECHO_CHARS = 4000


class LLMPlannerConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["llm"] = "llm"
    #: Longest plan kept (EB asks for at most 20 actions); longer plans are cut.
    max_plan_len: int = Field(default=20, ge=1, le=50)
    #: Correction turns after an unusable reply, on top of the LLM client's own JSON repair.
    max_retries: int = Field(default=1, ge=0, le=3)
    #: Character budgets of the prompt's variable parts. The skill list is never cut: ids index into it.
    #: ``memory_chars`` bounds each short-term store and semantic memory (whole lines).
    memory_chars: int = Field(default=1500, ge=0)
    #: Past episodes (episodic memory), whole and compactly rendered, in this many tokens (chars / 4).
    #: ~5 episodes of 15-20 steps fit; the best-ranked one is always shown.
    recall_tokens: int = Field(default=1200, ge=0)
    observation_chars: int = Field(default=2000, ge=0)
    #: The raw action history: at most this many recent actions, each with its env feedback ...
    history_steps: int = Field(default=5, ge=0)
    #: ... and, with ``after_temporal``, only those temporal memory does not hold yet (none, usually: it
    #: is the planner's account of the episode, as in the paper). ``last`` shows the last ``history_steps``
    #: whatever temporal memory holds (EmbodiedBench's history, bounded).
    history: Literal["after_temporal", "last"] = "after_temporal"
    history_chars: int = Field(default=3000, ge=0)
    reflection_chars: int = Field(default=600, ge=0)
    #: In-context examples: this many tasks solved by the household simulator's oracle in houses that are
    #: not evaluated (``modules/prefrontal/examples.py``). Two show the profile's hardest preconditions
    #: (ALFRED: cleaning, heating; Habitat: cooling, two objects) for ~300 tokens, which keeps the whole
    #: prompt inside an 8k context next to ALFRED's ~170-action list; EmbodiedBench's own prompt uses 10.
    examples: int = Field(default=2, ge=0, le=10)
    #: Latest observation frames sent as image parts (0: language only, as EB's ``language_only``).
    max_images: int = Field(default=1, ge=0, le=8)


class LLMPlanner:
    """``LLMPlanner(config, llm=client).plan(inp)``. ``failed_replies`` counts unusable replies (each
    attempt), ``retries`` the correction turns sent, ``notes`` what the last parse repaired or cut."""

    def __init__(self, config: LLMPlannerConfig, *, llm: LLMClient) -> None:
        self.config = config
        self.llm = llm
        self.failed_replies = 0
        self.retries = 0
        self.notes: tuple[str, ...] = ()

    def prompt(self, inp: PlanningInput) -> str:
        """The prompt text for ``inp`` (rendered on every call: the skill list changes per episode)."""
        cfg = self.config
        visual = self._visual(inp)
        skills = "\n".join(f"action id {i}: {skill}" for i, skill in enumerate(inp.skills))
        reflection = (
            f"\n## Critic feedback on your last plan\n{clip(inp.reflection, cfg.reflection_chars)}\n"
            if inp.reflection and inp.reflection.strip()
            else ""
        )
        examples = examples_text(inp.task.profile, cfg.examples)
        return render(
            "planner",
            robot=inp.robot,
            skills=skills or "(no actions available)",
            guide=section("What the actions do and when they are valid", inp.skill_guide),
            max_plan_len=cfg.max_plan_len,
            examples=section(
                "Examples: tasks solved in other houses (take ids and names from the action list above)",
                examples,
            ),
            instruction=inp.task.instruction.strip(),
            budget=budget_line(inp.steps_left, inp.invalid_left),
            observation=clip(inp.observation.text, cfg.observation_chars) or "(no text observation)",
            memory=memory_section(inp.memory, cfg.memory_chars, recall_tokens=cfg.recall_tokens),
            history=history_section(
                inp.history,
                inp.skills,
                max_steps=cfg.history_steps,
                chars=cfg.history_chars,
                after_step=temporal_last_step(inp.memory) if cfg.history == "after_temporal" else None,
            ),
            reflection=reflection,
            output_format=render("planner_output", visual_key=_VISUAL_KEY if visual else ""),
        )

    def plan(self, inp: PlanningInput) -> Plan:
        visual = self._visual(inp)
        schema = plan_schema(visual=visual)
        first = user_message(self.prompt(inp), inp.observation.images, self.config.max_images)
        messages: list[ChatMessage] = [first]
        for attempt in range(self.config.max_retries + 1):
            reply = self.llm.complete(
                messages, role=ROLE, schema=schema, schema_name="plan", essential=ESSENTIAL_KEYS
            )
            parsed = parse_plan(
                reply.data,
                inp.skills,
                max_len=self.config.max_plan_len,
                required=ESSENTIAL_KEYS,
                json_error=reply.error,
            )
            self.notes = parsed.notes
            if parsed.notes:
                log.info("planner reply repaired: %s", "; ".join(parsed.notes))
            if parsed.error is None:
                return self._plan(parsed, reply.text)
            self.failed_replies += 1
            log.warning("unusable planner reply (attempt %d): %s", attempt + 1, parsed.error)
            if attempt < self.config.max_retries:
                self.retries += 1
                # Restart from the first message each time, so retries do not snowball the context.
                messages = [
                    first,
                    {"role": "assistant", "content": clip(reply.text, _ECHO_CHARS)},
                    text_message("user", self._correction(parsed.error, schema["required"], inp)),
                ]
        return Plan((), reasoning=parsed.reasoning, output_error=True, raw=reply.text)

    def _visual(self, inp: PlanningInput) -> bool:
        return self.config.max_images > 0 and bool(inp.observation.images)

    @staticmethod
    def _correction(problem: str, keys: list[str], inp: PlanningInput) -> str:
        return render(
            "planner_correction",
            problem=problem,
            keys=", ".join(keys),
            last_id=max(len(inp.skills) - 1, 0),
        )

    @staticmethod
    def _plan(parsed: ParsedPlan, raw: str) -> Plan:
        return Plan(parsed.actions, reasoning=parsed.reasoning, empty=parsed.empty, raw=raw)
