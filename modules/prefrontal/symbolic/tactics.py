"""Skill sequences for the planner's sub-goals (fetch, put into, clean / heat / cool, slice, switch on), in
both grammars, written against beliefs.

A :class:`Builder` appends skills while predicting what each one changes (what is held, where the agent
stands, ALFRED's implicit ``put down`` target, doors it opened) and **stops right after the first skill
whose outcome it cannot predict** — a ``find`` to a place it has no belief about, arriving at a receptacle
whose door state is unknown. The loop replans when a plan runs out, so stopping early costs nothing, while
guessing on would cost invalid actions.
"""

from __future__ import annotations

from envs.skill_language import COOLERS, FAUCETS, HEATERS, WASHERS
from modules.prefrontal.symbolic.beliefs import BeliefState
from modules.prefrontal.symbolic.episode import FLOOR

__all__ = ("Builder",)

#: Stop proposing a skill that already failed this often this episode.
_MAX_FAILURES = 2


class Builder:
    def __init__(self, beliefs: BeliefState, max_len: int) -> None:
        self.b = beliefs
        self.skills = beliefs.skills
        self.max_len = max_len
        self.actions: list[str] = []
        self.notes: list[str] = []
        self.stopped = False
        # Predicted state, as the plan so far leaves it.
        # EB's robot holds one thing: the plan is built for that hand (the last thing taken).
        self.held = beliefs.holding[-1] if beliefs.holding else None
        self.at = beliefs.location
        self.put_target = beliefs.facts.put_target
        self.moved = False
        self.opened: dict[str, bool] = {}
        self.parent: dict[str, str | None] = {}
        self.sliced: set[str] = set()

    # ---- bookkeeping -----------------------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        return not self.stopped and len(self.actions) < self.max_len

    def stop(self, why: str = "") -> None:
        if why:
            self.notes.append(why)
        self.stopped = True

    def emit(self, verb: str, name: str | None = None) -> bool:
        if not self.ok:
            return False
        text = self.skills.text(verb, name)
        if text not in self.skills:
            self.stop(f"no skill '{text}'")
            return False
        if text in self.b.vetoed or (verb == "open" and name in self.b.facts.stuck):
            self.stop(f"'{text}' will fail (critic / it would not open)")
            return False
        if self.b.facts.failures[text] >= _MAX_FAILURES:
            self.stop(f"'{text}' already failed {_MAX_FAILURES} times")
            return False
        if not self.actions and verb in ("find", "navigate") and self._just_did(text):
            self.stop(f"already went to {name}")  # repeating a move teaches nothing: avoid a loop
            return False
        self.actions.append(text)
        return True

    def _just_did(self, text: str) -> bool:
        history = self.b.history
        return bool(history) and history[-1].action == text and history[-1].success

    # ---- predictions -----------------------------------------------------------------------------------
    def parent_of(self, name: str) -> str | None:
        return self.parent[name] if name in self.parent else self.b.get(name).parent

    def place_of(self, name: str) -> str | None:
        if name == self.held:
            return None
        seen: list[str] = []
        parent = self.parent_of(name)
        while parent is not None and parent not in seen:
            seen.append(parent)
            parent = self.parent_of(parent)
        if not seen or seen[-1] == self.held or self.held in seen:
            return None
        top = seen[-1]
        return None if self.skills.pickable(top) else top

    def is_open(self, name: str) -> bool | None:
        if name == FLOOR:
            return True
        state = self.opened.get(name, self.b.is_open(name))
        if state is None and not self.b.perceived:
            return False  # blind: assume doors are shut until the agent opens them (or hears otherwise)
        return state

    def reachable(self, obj: str) -> bool | None:
        """Can ``obj`` be picked (or sliced) without moving? ``None``: cannot tell."""
        if not self.moved and self.b.get(obj).visible and obj not in self.parent:
            return True
        last = self.b.facts.last_find
        if not self.b.perceived and not self.moved and last is not None and last[0] == obj:
            place = self.place_of(obj)  # blind: trust the last find, unless told it is shut away
            return place is None or self.is_open(place) is not False
        place = self.place_of(obj)
        if place is None or place != self.at:
            return False
        return self.is_open(place)

    # ---- moving ----------------------------------------------------------------------------------------
    def go(self, name: str) -> None:
        """ALFRED ``find a X`` / Habitat ``navigate to the X``."""
        if self.skills.alfred:
            if not self.emit("find", name):
                return
            self.moved = True
            if self.skills.pickable(name):
                self.at = self.place_of(name)
                self.put_target = name if self.b.is_container(name) else self.parent_of(name)
                if self.at is None:
                    self.stop(f"looking for {name}")
            else:
                self.at = self.parent_of(name) or name  # an anchored appliance is reached at its anchor
                self.put_target = self.at
            return
        if self.at != name and self.emit("navigate", name):
            self.at, self.moved = name, True

    def open_here(self, place: str | None) -> None:
        """Open the place the agent stands at when it is closed; stop when its state is unknown."""
        if place is None:
            return
        state = self.is_open(place)
        if state is False and self.emit("open", place):
            self.opened[place] = True
            self.put_target = place
        elif state is None:
            self.stop(f"{place} may be closed")

    def approach(self, obj: str) -> None:
        """Get within reach of ``obj``: go to its place unless already there, then open that place if shut."""
        if self.reachable(obj) is True:
            return
        place = self.place_of(obj)
        if place is None or place != self.at:
            if self.skills.alfred:
                self.go(obj)
            elif place is None:
                self.stop(f"do not know where {obj} is")
                return
            else:
                self.go(place)
        self.open_here(self.place_of(obj))

    # ---- sub-goals -------------------------------------------------------------------------------------
    def fetch(self, obj: str) -> None:
        if self.held == obj or not self.ok:
            return
        self.free_hand()
        self.approach(obj)
        if self.emit("pick", obj):
            if self.put_target == obj:
                self.put_target = self.parent_of(obj)
            self.held, self.parent[obj] = obj, None

    def free_hand(self) -> None:
        held = self.held
        if held is None or not self.ok:
            return
        if self.skills.alfred:
            target = self.put_target
            if (
                target is not None
                and target not in (held, FLOOR)
                and self.is_open(target) is True
                and (self.skills.type_of(held), target) not in self.b.facts.unfit
                and (self.place_of(target) == self.at or target == self.at)
            ):
                self._release("put", target)
            else:
                self._release("drop", FLOOR)
            return
        spot = self._habitat_spot(held)
        if spot is None:
            self.stop(f"no place to put {held} down")
            return
        self.go(spot)
        self._release("place", spot)

    def _release(self, verb: str, target: str) -> None:
        held = self.held
        if held is not None and self.emit(verb, target if verb == "place" else None):
            self.held, self.parent[held] = None, target

    def _habitat_spot(self, held: str) -> str | None:
        """Where to set something down: here if possible, else an open surface, nearest rooms first."""
        kind = self.skills.type_of(held)
        places = list(self.skills.places())
        if self.at in places:
            places.remove(self.at)
            places.insert(0, self.at)
        for place in places:
            if (kind, place) not in self.b.facts.unfit and not self.skills.openable(place):
                return place
        return None

    def put_into(self, container: str) -> None:
        if self.held is None or not self.ok:
            return
        if self.skills.alfred and self.skills.pickable(container):
            if not (self.reachable(container) and self.put_target == container):
                self.go(container)
                place = self.place_of(container)
                if place is not None and self.is_open(place) is not True:
                    self.open_here(place)
                    self.go(container)  # opening re-aims "put down"; aim it back at the container
        else:
            if not (self.at == container and (not self.skills.alfred or self.put_target == container)):
                self.go(container)
            self.open_here(container)
        held = self.held
        if self.emit("put" if self.skills.alfred else "place", container):
            self.held, self.parent[held] = None, container

    def treat(self, obj: str, state: str) -> None:
        """Make the held ``obj`` clean, hot or cold, and hold it again."""
        kinds = {"clean": WASHERS, "hot": HEATERS, "cold": COOLERS}[state]
        device = self.device(kinds)
        if device is None:
            self.stop(f"no appliance to make {obj} {state}")
            return
        self.put_into(device)
        if state == "clean":
            faucet = self.b.faucet_of(device) or next(iter(FAUCETS))
            if not self.b.faucet_on(device):
                self.emit("on", faucet)
            self.emit("off", faucet)
        elif state == "hot":
            if not self.b.get(device).states.get("on"):
                if self.emit("close", device):
                    self.opened[device] = False
                self.emit("on", device)
            self.emit("off", device)
            if self.emit("open", device):
                self.opened[device] = True
                self.put_target = device
        self.fetch(obj)

    def device(self, kinds: frozenset[str]) -> str | None:
        """The appliance of one of ``kinds`` to use: one here, else in this room, else the first known."""
        names = [n for k in sorted(kinds) for n in self.b.instances(k)]
        if not names:
            return None
        return min(names, key=lambda n: (n != self.at, self.b.get(n).room != self.b.room, names.index(n)))

    def slice(self, obj: str) -> None:
        knife = self.knife()
        if knife is None:
            self.stop("no knife known")
            return
        if self.held != knife:
            self.fetch(knife)
        self.approach(obj)
        if self.emit("slice", obj):
            self.sliced.add(obj)
            self.free_hand()

    def knife(self) -> str | None:
        names = [n for k in ("Knife", "ButterKnife") for n in self.b.instances(k)]
        if not names:
            return None
        return min(
            names,
            key=lambda n: (
                n != self.held,
                not self.b.get(n).visible,
                self.place_of(n) is None,
                names.index(n),
            ),
        )

    def switch_on(self, name: str) -> None:
        if not self.b.nearby(name) or self.moved:
            self.go(name)
        self.emit("on", name)
