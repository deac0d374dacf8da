"""Episodic retrieval quality at scale: recall@5 of the right past episode among N stored episodes (1e5 by
default) with the offline MiniLM embedder, and query latency, on the Chroma backend (HNSW, ``ef_search``
100 by default, raised while it falls short) and on the exact backend.

    python -m bench.retrieval_quality [--quick] [--n 100000] [--queries-per-style 100] [--out PATH]

**Items.** Household episodes generated from the household catalogs and the suites' instruction templates
(``envs.household.wording.TEMPLATES``): both profiles, six task types, objects and receptacles referred to
plainly, by colour/material or by a left/right relation, across many sites, each a distinct task. Every
episode is stored the way :class:`EpisodicMemory` stores it — the document is the rendered trajectory
(``render_trajectory``: instruction, site, outcome, numbered actions with feedback), the metadata that of
``episode_candidates`` and ``LongTermIndex.apply``, and the vector that of ``"Task: <instruction>"`` (episodic
memory embeds the instruction, not the trajectory).

**Queries.** For a sample of stored episodes, the instruction of the same task written differently, as the
agent would meet it again (the deterministic thalamus queries memory with the instruction itself):

* ``verbatim``: the stored wording (isolates what the approximate index loses);
* ``paraphrase``: another template of the same task type ("Wash a mug in the sink and put it in a drawer."
  vs "Clean a mug, then place it in a drawer.");
* ``common_sense``: the object described by its use, as in the common_sense subset ("something you drink
  hot coffee from"), for tasks whose objects are named plainly;
* ``complex``: the stored instruction wrapped in irrelevant context about the house, as in the
  complex_instruction subset.

The right answer is the source episode; recall@5 counts a query as found when that episode is among the 5
returned by a store query filtered on ``{"kind": "episode"}`` (as ``EpisodicMemory.retrieve`` did until it
dropped the filter: the collection holds episodes only, so both give the same hits); recall without the
filter, through ``EpisodicMemory.retrieve`` itself, and the overlap of Chroma's top 5 with the exact top 5 are
reported too.

**Store size.** The same query set (sources among the first 1000 episodes) is also answered by exact search
over the first 1e3, 1e4, ... episodes (``--scales``): how recall falls as the haystack grows.

**Latency** (median and p95 over the queries): the store query with a precomputed vector, with and without
the filter, and the whole ``EpisodicMemory.retrieve`` call (embedding the query with an uncached MiniLM, then
the query).

Embedding 1e5 texts takes minutes on 2 cores; the vectors are cached under ``--cache-dir`` (default
``runs/bench-cache/retrieval_quality``, which git ignores) in blocks keyed by their texts, so a rerun, an
interrupted run or a smaller ``--n`` only pays for what is missing.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench._script import RESULTS_DIR, bench_main, distribution, machine_info, now_iso
from envs.household.catalog import CATALOGS, Catalog, TypeSpec
from envs.household.wording import TEMPLATES, article, noun
from modules.hippocampus.base import EpisodeContext, EpisodeOutcome, StepRecord
from modules.hippocampus.episodic import EpisodicConfig, EpisodicMemory, episode_candidates
from modules.hippocampus.longterm import stable_id
from modules.thalamus.deterministic import instruction_queries
from robomem.embeddings.base import Vectors
from robomem.embeddings.minilm import MiniLMEmbedder
from robomem.stores.base import VectorItem, VectorStore
from robomem.stores.config import VectorConfig
from robomem.stores.factory import open_vector_store

__all__ = ("Episode", "generate_episodes", "main", "make_queries", "run")

DEFAULT_OUT = RESULTS_DIR / "retrieval_quality.json"
DEFAULT_CACHE = Path("runs/bench-cache/retrieval_quality")
#: Texts per cached block of vectors.
CACHE_BLOCK = 8192
TARGET_RECALL = 0.95
K = 5
STYLES = ("verbatim", "paraphrase", "common_sense", "complex")
_KINDS = {
    "alfred": (
        "pick_and_place_simple",
        "pick_clean_then_place_in_recep",
        "pick_heat_then_place_in_recep",
        "pick_cool_then_place_in_recep",
        "pick_two_obj_and_place",
        "look_at_obj_in_light",
    ),
    "habitat": ("pick_and_place_simple", "pick_cool_then_place_in_recep", "pick_two_obj_and_place"),
}
_FRIDGE = {"alfred": "fridge", "habitat": "refrigerator"}
_DISTRACTIONS = (
    "Although there is {x} {xprep} the {y}, {instr}",
    "{Instr} Don't worry about the {xn} {xprep} the {y}; it can stay where it is.",
    "My guests are coming over soon and the place is a bit of a mess. {Instr}",
    "{Instr} After that you can take a break, the {xn} {xprep} the {y} is someone else's job.",
    "I was going to tidy up the {y} myself, but first things first: {instr}",
)


@dataclass(frozen=True)
class Episode:
    """One stored past episode: a distinct task (``goal``) at a site, worded with template ``template``."""

    index: int
    profile: str
    site: str
    kind: str
    template: int
    parts: dict[str, str]
    #: The object's catalog type and whether it (and a second object) is named plainly.
    obj: str
    plain_objects: bool
    instruction: str
    item: VectorItem

    @property
    def embed_text(self) -> str:
        return str(self.item.metadata["embed_text"])


def _object_ref(rng: random.Random, spec: TypeSpec) -> tuple[str, str, bool]:
    """(text, identity, plain?) of a reference to an object of ``spec``."""
    roll = rng.random()
    word = noun(spec.name)
    if roll < 0.55 or not spec.colors:
        return article(word), spec.name, True
    color = rng.choice(spec.colors)
    if roll < 0.85 or not spec.materials:
        return f"the {color} {word}", f"{spec.name}/{color}", False
    material = rng.choice(spec.materials)
    if material in word.split():  # "the pink soap soap bar"
        return f"the {color} {word}", f"{spec.name}/{color}", False
    return f"the {color} {material} {word}", f"{spec.name}/{color}/{material}", False


def _receptacle_ref(rng: random.Random, spec: TypeSpec, others: Sequence[TypeSpec]) -> tuple[str, str]:
    roll = rng.random()
    word = noun(spec.name)
    if roll < 0.5:
        return article(word), spec.name
    if roll < 0.75 and (spec.colors or spec.materials):
        attribute = rng.choice(spec.colors or spec.materials)
        return f"the {attribute} {word}", f"{spec.name}/{attribute}"
    side = rng.choice(("left", "right"))
    other = rng.choice([o for o in others if o.name != spec.name])
    return f"the {word} to the {side} of the {noun(other.name)}", f"{spec.name}/{side}/{other.name}"


def _steps(rng: random.Random, kind: str, obj: str, receptacle: str) -> tuple[list[StepRecord], bool]:
    ok = "Last action executed successfully."
    actions = [f"find a {obj}", f"pick up the {obj}"]
    if kind == "pick_clean_then_place_in_recep":
        actions += ["find a Sink", "put down the object in hand", "turn on the Faucet", "turn off the Faucet"]
        actions += [f"pick up the {obj}"]
    elif kind == "pick_heat_then_place_in_recep":
        actions += ["find a Microwave", "open the Microwave", "put down the object in hand"]
        actions += ["close the Microwave", "turn on the Microwave", "turn off the Microwave"]
        actions += ["open the Microwave", f"pick up the {obj}"]
    elif kind == "pick_cool_then_place_in_recep":
        actions += ["find a Fridge", "open the Fridge", "put down the object in hand", "close the Fridge"]
        actions += ["open the Fridge", f"pick up the {obj}"]
    actions += [f"find a {receptacle}", "put down the object in hand"]
    steps = [StepRecord(a, ok, True) for a in actions]
    if rng.random() < 0.7:
        return steps, True
    cut = rng.randrange(1, len(steps))
    failure = rng.choice(
        (
            f"Last action is invalid. Robot is currently holding {obj}.",
            f"Last action is invalid. {receptacle} is closed. Open it first.",
            f"Last action is invalid. Cannot find {obj}. This object may not exist.",
        )
    )
    return [*steps[:cut], StepRecord(actions[cut], failure, False)], False


def _fill(kind: str, template: int, parts: dict[str, str]) -> str:
    text = TEMPLATES[kind][template].format(**parts)
    return text[0].upper() + text[1:]


def generate_episodes(n: int, *, seed: int = 0, sites_per_profile: int = 100) -> list[Episode]:
    """``n`` distinct tasks (no two with the same goal), deterministic in ``seed``; the episodes of a smaller
    ``n`` are the first ones of a larger (so cached vectors carry over)."""
    rng = random.Random(seed)
    sites = sites_per_profile
    seen: set[tuple[str, ...]] = set()
    episodes: list[Episode] = []
    catalogs: dict[str, Catalog] = dict(CATALOGS)
    attempts = 0
    while len(episodes) < n:
        attempts += 1
        if attempts > 50 * n + 1000:
            raise RuntimeError(f"cannot generate {n} distinct tasks from the catalogs")
        profile = "alfred" if rng.random() < 0.6 else "habitat"
        catalog = catalogs[profile]
        kind = rng.choice(_KINDS[profile])
        objects = [
            o
            for o in catalog.of_kind("object")
            if (kind != "pick_clean_then_place_in_recep" or o.cleanable)
            and (kind != "pick_heat_then_place_in_recep" or o.heatable)
            and (kind != "pick_cool_then_place_in_recep" or o.coolable)
        ]
        receptacles = [r for r in catalog.of_kind("receptacle") if r.capacity > 0]
        if not objects:
            continue
        spec = rng.choice(objects)
        fitting = [r for r in receptacles if r.capacity >= spec.size]
        rec = rng.choice(fitting)
        o_text, o_key, o_plain = _object_ref(rng, spec)
        r_text, r_key = _receptacle_ref(rng, rec, receptacles)
        parts = {"o": o_text, "prep": rec.preposition, "r": r_text, "fridge": _FRIDGE[profile]}
        goal = [profile, kind, o_key, r_key]
        if kind == "pick_two_obj_and_place":
            second = rng.choice([o for o in objects if o.name != spec.name and o.size <= rec.capacity])
            o2_text, o2_key, o2_plain = _object_ref(rng, second)
            parts["o2"] = o2_text
            goal.append(o2_key)
            o_plain = o_plain and o2_plain
        if kind == "look_at_obj_in_light":
            lamp = rng.choice(("DeskLamp", "FloorLamp"))
            parts["lamp"] = f"the {noun(lamp)}"
            goal = [profile, kind, o_key, lamp]
        key = tuple(goal)
        if key in seen:
            continue
        seen.add(key)
        index = len(episodes)
        template = rng.randrange(len(TEMPLATES[kind]))
        instruction = _fill(kind, template, parts)
        site = f"{profile}_site_{rng.randrange(sites):03d}"
        steps, success = _steps(rng, kind, spec.name, rec.name)
        context = EpisodeContext(site, f"bench/{index}", instruction, kind)
        outcome = EpisodeOutcome(context, success, 1.0 if success else 0.5, tuple(steps), time=float(index))
        candidate = episode_candidates(outcome)[0]
        # What LongTermIndex.apply stores for an ADD.
        metadata = {
            **candidate.metadata,
            "key": candidate.key,
            "created": float(index),
            "updated": float(index),
            "count": 1,
            "episodes": context.episode_id,
            "embed_text": candidate.similarity_text,
        }
        item = VectorItem(stable_id(context.episode_id, candidate.key, "0"), candidate.text, metadata)
        episodes.append(
            Episode(index, profile, site, kind, template, parts, spec.name, o_plain, instruction, item)
        )
    return episodes


def make_queries(
    episodes: Sequence[Episode], per_style: int, *, seed: int = 1
) -> list[tuple[str, str, Episode]]:
    """``(style, query text, source episode)``, ``per_style`` of each style where possible."""
    rng = random.Random(seed)
    order = list(episodes)
    rng.shuffle(order)
    queries: list[tuple[str, str, Episode]] = []
    for style in STYLES:
        made = 0
        for episode in order:
            if made >= per_style:
                break
            text = _variant(rng, style, episode)
            if text is not None:
                queries.append((style, text, episode))
                made += 1
    return queries


def _variant(rng: random.Random, style: str, episode: Episode) -> str | None:
    catalog = CATALOGS[episode.profile]
    templates = TEMPLATES[episode.kind]
    if style == "verbatim":
        return episode.instruction
    if style == "paraphrase":
        others = [i for i in range(len(templates)) if i != episode.template]
        return _fill(episode.kind, rng.choice(others), episode.parts) if others else None
    if style == "common_sense":
        sense = catalog[episode.obj].common_sense
        if not episode.plain_objects or not sense or episode.kind == "pick_two_obj_and_place":
            return None
        return _fill(episode.kind, episode.template, {**episode.parts, "o": sense})
    objects = [o for o in catalog.of_kind("object") if o.name != episode.obj]
    places = [r for r in catalog.of_kind("receptacle") if r.capacity > 0]
    distractor, place = rng.choice(objects), rng.choice(places)
    instruction = episode.instruction
    return rng.choice(_DISTRACTIONS).format(
        x=article(noun(distractor.name)),
        xn=noun(distractor.name),
        xprep=place.preposition,
        y=noun(place.name),
        instr=instruction[0].lower() + instruction[1:],
        Instr=instruction,
    )


# ---- embedding with a cache -------------------------------------------------------------------------
def _embed(model: MiniLMEmbedder, texts: Sequence[str], *, threads: int, label: str) -> Vectors:
    chunk = 1024
    pieces = [list(texts[i : i + chunk]) for i in range(0, len(texts), chunk)]
    out: list[Vectors] = []
    start = time.perf_counter()

    def work(piece: list[str]) -> Vectors:
        return model.embed(piece)

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for done, vectors in enumerate(pool.map(work, pieces), start=1):
            out.append(vectors)
            if len(pieces) > 4 and (done % 10 == 0 or done == len(pieces)):
                rate = done * chunk / (time.perf_counter() - start)
                print(
                    f"  embedding {label}: {min(done * chunk, len(texts))}/{len(texts)} ({rate:.0f}/s)",
                    file=sys.stderr,
                )
    return np.concatenate(out) if out else np.zeros((0, model.dim), dtype=np.float32)


def embed_cached(
    model: MiniLMEmbedder, texts: Sequence[str], cache_dir: Path | None, *, label: str, threads: int
) -> tuple[Vectors, dict[str, Any]]:
    """Vectors of ``texts``, embedded in blocks of ``CACHE_BLOCK`` texts. A block an earlier run embedded
    (same texts, same model) is read from ``cache_dir``, so an interrupted or smaller run is not wasted."""
    blocks: list[Vectors] = []
    cached = embedded = 0
    seconds = 0.0
    for first in range(0, len(texts), CACHE_BLOCK):
        block = texts[first : first + CACHE_BLOCK]
        digest = hashlib.sha256("\x1f".join([model.name, *block]).encode("utf-8")).hexdigest()[:24]
        path = cache_dir / f"{label}-{len(block)}-{digest}.npy" if cache_dir is not None else None
        if path is not None and path.exists():
            blocks.append(np.load(path, allow_pickle=False))
            cached += len(block)
            continue
        start = time.perf_counter()
        vectors = _embed(model, block, threads=threads, label=f"{label} {first}-{first + len(block)}")
        seconds += time.perf_counter() - start
        embedded += len(block)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.stem + ".tmp.npy")
            np.save(tmp, vectors, allow_pickle=False)
            tmp.replace(path)
        blocks.append(vectors)
    out = np.concatenate(blocks) if blocks else np.zeros((0, model.dim), dtype=np.float32)
    return out, {
        "texts": len(texts),
        "from_cache": cached == len(texts),
        "texts_from_cache": cached,
        "texts_embedded": embedded,
        "seconds": round(seconds, 2),
        "texts_per_s": round(embedded / seconds, 1) if seconds > 0 else None,
        "cache_dir": str(cache_dir) if cache_dir is not None else None,
    }


# ---- evaluation -------------------------------------------------------------------------------------
def _fill_store(
    store: VectorStore, episodes: Sequence[Episode], vectors: Vectors, batch: int = 5000
) -> float:
    start = time.perf_counter()
    for i in range(0, len(episodes), batch):
        store.upsert([e.item for e in episodes[i : i + batch]], vectors[i : i + batch])
    return time.perf_counter() - start


def _evaluate(
    store: VectorStore,
    queries: Sequence[tuple[str, str, Episode]],
    query_vectors: Vectors,
    memory_dir: Path,
    *,
    exact_top: list[list[str]] | None = None,
) -> tuple[dict[str, Any], list[list[str]]]:
    """Recall@5 per style and overall, latencies; also the unfiltered top-5 ids per query."""
    where = {"kind": "episode"}
    # An uncached embedder: every query is embedded anew, as a new instruction would be.
    memory = EpisodicMemory(
        EpisodicConfig(top_k=K), store=store, embedder=MiniLMEmbedder(), memory_dir=memory_dir
    )
    for i in range(min(3, len(queries))):  # warm-up: page in the index
        store.query(query_vectors[i : i + 1], K, where)
        memory.retrieve([queries[i][1]])
    lat_filtered: list[float] = []
    lat_plain: list[float] = []
    lat_retrieve: list[float] = []
    found: dict[str, list[bool]] = {style: [] for style in STYLES}
    found_plain: dict[str, list[bool]] = {style: [] for style in STYLES}
    found_retrieve: list[bool] = []
    found_thalamus: dict[str, list[bool]] = {style: [] for style in STYLES}
    lat_thalamus: list[float] = []
    ranks: list[int] = []
    unfiltered_top: list[list[str]] = []
    for i, (style, text, source) in enumerate(queries):
        vector = query_vectors[i : i + 1]
        start = time.perf_counter()
        hits = store.query(vector, K, where)[0]
        lat_filtered.append(time.perf_counter() - start)
        start = time.perf_counter()
        plain = store.query(vector, K)[0]
        lat_plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        result = memory.retrieve([text])
        lat_retrieve.append(time.perf_counter() - start)
        ids = [h.item.id for h in hits]
        found[style].append(source.item.id in ids)
        found_plain[style].append(source.item.id in [h.item.id for h in plain])
        found_retrieve.append(source.item.id in [d["id"] for d in result.data])
        start = time.perf_counter()
        result = memory.retrieve(instruction_queries(text))
        lat_thalamus.append(time.perf_counter() - start)
        found_thalamus[style].append(source.item.id in [d["id"] for d in result.data])
        ranks.append(ids.index(source.item.id) + 1 if source.item.id in ids else 0)
        unfiltered_top.append([h.item.id for h in plain])

    def recall(flags: dict[str, list[bool]]) -> dict[str, Any]:
        every = [f for style in STYLES for f in flags[style]]
        return {
            "all": round(float(np.mean(every)), 4) if every else None,
            **{s: round(float(np.mean(flags[s])), 4) if flags[s] else None for s in STYLES},
        }

    report: dict[str, Any] = {
        "recall_at_5": recall(found),
        "recall_at_5_unfiltered": recall(found_plain),
        "recall_at_5_episodic_retrieve": round(float(np.mean(found_retrieve)), 4) if found_retrieve else None,
        # What the agent does: the deterministic thalamus queries with the instruction and its clauses.
        "recall_at_5_thalamus_queries": recall(found_thalamus),
        "found_at_rank_1": round(float(np.mean([r == 1 for r in ranks])), 4) if ranks else None,
        "latency_ms": {
            "query_filtered": distribution(lat_filtered, scale=1e3),
            "query_unfiltered": distribution(lat_plain, scale=1e3),
            "episodic_retrieve": distribution(lat_retrieve, scale=1e3),
            "episodic_retrieve_thalamus_queries": distribution(lat_thalamus, scale=1e3),
        },
    }
    if exact_top is not None:
        overlap = [len(set(a) & set(b)) / K for a, b in zip(unfiltered_top, exact_top, strict=True)]
        report["top5_overlap_with_exact"] = round(float(np.mean(overlap)), 4)
    return report, unfiltered_top


def _recall_by_size(
    episodes: Sequence[Episode],
    item_vectors: Vectors,
    model: MiniLMEmbedder,
    cache: Path | None,
    args: argparse.Namespace,
) -> list[dict[str, Any]]:
    """Exact recall@5 of one query set (sources among the first ``min(scales)`` episodes) as more and more
    episodes are stored: the same questions, a growing haystack."""
    sizes = sorted({s for s in [*args.scales, len(episodes)] if 0 < s <= len(episodes)})
    if len(sizes) < 2:
        return []
    queries = make_queries(episodes[: sizes[0]], args.queries_per_style, seed=args.seed + 2)
    vectors, _ = embed_cached(
        model, [q[1] for q in queries], cache, label="scale-queries", threads=args.threads
    )
    sources = np.array([q[2].index for q in queries])
    out = []
    for size in sizes:
        scores = vectors @ item_vectors[:size].T
        top = np.argpartition(-scores, min(K, size - 1), axis=1)[:, :K]
        hit = (top == sources[:, None]).any(axis=1)
        by_style = {s: [bool(h) for h, q in zip(hit, queries, strict=True) if q[0] == s] for s in STYLES}
        out.append(
            {
                "n_items": size,
                "recall_at_5": {
                    "all": round(float(hit.mean()), 4),
                    **{s: round(float(np.mean(v)), 4) if v else None for s, v in by_style.items()},
                },
            }
        )
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    episodes = generate_episodes(args.n, seed=args.seed)
    queries = make_queries(episodes, args.queries_per_style, seed=args.seed + 1)
    model = MiniLMEmbedder()
    cache = None if args.no_cache else args.cache_dir
    item_vectors, item_embedding = embed_cached(
        model, [e.embed_text for e in episodes], cache, label="items", threads=args.threads
    )
    query_vectors, query_embedding = embed_cached(
        model, [q[1] for q in queries], cache, label="queries", threads=args.threads
    )
    single: list[float] = []
    for _, text, _ in queries[: min(50, len(queries))]:
        fresh = f"{text} ({len(single)})"  # never the same text twice
        start = time.perf_counter()
        model.embed([fresh])
        single.append(time.perf_counter() - start)
    scaling = _recall_by_size(episodes, item_vectors, model, cache, args)
    backends: dict[str, Any] = {}
    target = args.target
    with tempfile.TemporaryDirectory(prefix="bench-retrieval-") as tmp:
        root = Path(tmp)
        config = VectorConfig(type="exact")
        exact = open_vector_store(
            config, memory_dir=root / "exact", name="episodic", embedder_name=model.name, dim=model.dim
        )
        try:
            insert = _fill_store(exact, episodes, item_vectors, batch=len(episodes))
            result, exact_top = _evaluate(exact, queries, query_vectors, root / "exact")
            backends["exact"] = {"insert_seconds": round(insert, 2), **result}
        finally:
            exact.close()
        print(f"  exact: recall@5 {backends['exact']['recall_at_5']['all']}", file=sys.stderr)
        chroma_runs = []
        store = None
        try:
            for number, ef in enumerate(args.ef):
                config = VectorConfig(type="chroma", hnsw_ef_search=ef)
                store = open_vector_store(
                    config,
                    memory_dir=root / "chroma",
                    name="episodic",
                    embedder_name=model.name,
                    dim=model.dim,
                )
                entry: dict[str, Any] = {"ef_search": ef}
                if number == 0:
                    entry["insert_seconds"] = round(_fill_store(store, episodes, item_vectors), 2)
                hnsw = getattr(getattr(store, "collection", None), "configuration", {}).get("hnsw") or {}
                entry["ef_search_in_collection"] = hnsw.get("ef_search")
                result, _ = _evaluate(store, queries, query_vectors, root / "chroma", exact_top=exact_top)
                entry.update(result)
                chroma_runs.append(entry)
                store.close()
                store = None
                print(f"  chroma ef_search {ef}: recall@5 {entry['recall_at_5']['all']}", file=sys.stderr)
                exact_all = backends["exact"]["recall_at_5"]["all"] or 0.0
                short = (entry["recall_at_5"]["all"] or 0.0) < min(target, exact_all) - 1e-9
                if not short and not args.all_ef:
                    break
        finally:
            if store is not None:
                store.close()
    backends["chroma"] = chroma_runs
    default_run = chroma_runs[0]
    chosen = next(
        (
            r
            for r in chroma_runs
            if (r["recall_at_5"]["all"] or 0) >= min(target, backends["exact"]["recall_at_5"]["all"] or 0)
        ),
        None,
    )
    targets = [
        {
            "backend": "exact",
            "metric": "recall_at_5",
            "value": backends["exact"]["recall_at_5"]["all"],
            "target": f">= {target}",
            "met": (backends["exact"]["recall_at_5"]["all"] or 0) >= target,
        },
        {
            "backend": f"chroma ef_search {default_run['ef_search']}",
            "metric": "recall_at_5",
            "value": default_run["recall_at_5"]["all"],
            "target": f">= {target}",
            "met": (default_run["recall_at_5"]["all"] or 0) >= target,
        },
    ]
    return {
        "benchmark": "retrieval_quality",
        "quick": args.quick,
        "n_items": len(episodes),
        "queries": {style: sum(1 for q in queries if q[0] == style) for style in STYLES},
        "k": K,
        "seed": args.seed,
        "embedder": model.name,
        "embedded_text": "items: 'Task: <instruction>' (as EpisodicMemory embeds); queries: the instruction",
        "items": {
            "profiles": {p: sum(1 for e in episodes if e.profile == p) for p in CATALOGS},
            "sites": len({e.site for e in episodes}),
            "task_types": {
                k: sum(1 for e in episodes if e.kind == k) for k in sorted({e.kind for e in episodes})
            },
            "examples": [{"instruction": e.instruction, "document": e.item.text[:300]} for e in episodes[:3]],
        },
        "query_examples": {
            style: [{"query": q[1], "stored": q[2].instruction} for q in queries if q[0] == style][:3]
            for style in STYLES
        },
        "embedding": {
            "items": item_embedding,
            "queries": query_embedding,
            "single_query_ms": distribution(single, scale=1e3),
        },
        "backends": backends,
        "exact_recall_by_store_size": scaling,
        "ef_search_meeting_target": chosen["ef_search"] if chosen else None,
        "targets": targets,
        "seconds": round(time.perf_counter() - started, 2),
        "machine": machine_info(),
        "created": now_iso(),
    }


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=None, help="stored episodes (default 100000, quick 500)")
    parser.add_argument(
        "--queries-per-style", type=int, default=None, help="queries per style (default 100, quick 10)"
    )
    parser.add_argument(
        "--ef",
        default="100,200,400,800",
        help="Chroma ef_search values, tried in order while recall falls short",
    )
    parser.add_argument(
        "--all-ef", action="store_true", help="measure every --ef value, not only until the target is met"
    )
    parser.add_argument(
        "--target", type=float, default=TARGET_RECALL, help=f"recall@5 target (default {TARGET_RECALL})"
    )
    parser.add_argument(
        "--scales",
        default=None,
        help="exact recall@5 of one query set at these store sizes too (default 1000,10000; quick 100)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="embedding threads (default 2)")
    parser.add_argument(
        "--cache-dir", type=Path, default=DEFAULT_CACHE, help=f"vector cache (default {DEFAULT_CACHE})"
    )
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the vector cache")


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, Any]:
    args.n = args.n if args.n is not None else (500 if args.quick else 100_000)
    args.queries_per_style = (
        args.queries_per_style if args.queries_per_style is not None else (10 if args.quick else 100)
    )
    try:
        args.ef = [int(v) for v in args.ef.split(",") if v.strip()]
        scales = args.scales if args.scales is not None else ("100" if args.quick else "1000,10000")
        args.scales = [int(v) for v in scales.split(",") if v.strip()]
    except ValueError:
        parser.error("--ef and --scales take comma-separated integers")
    if args.n < 10 or args.queries_per_style < 1 or not args.ef or min(args.ef) < 10:
        parser.error("--n must be >= 10, --queries-per-style >= 1 and every --ef >= 10")
    return run(args)


def _summary(report: dict[str, Any], args: argparse.Namespace) -> str:
    exact = report["backends"]["exact"]
    lat = exact["latency_ms"]["query_filtered"]
    lines = [
        f"exact: recall@5 {exact['recall_at_5']['all']}, query {lat['median']} ms (p95 {lat['p95']})",
        f"exact: recall@5 with the thalamus' queries {exact['recall_at_5_thalamus_queries']}",
    ]
    for entry in report["backends"]["chroma"]:
        lat = entry["latency_ms"]["query_filtered"]
        lines.append(
            f"chroma ef_search {entry['ef_search']}: recall@5 {entry['recall_at_5']['all']}, "
            f"query {lat['median']} ms (p95 {lat['p95']}), "
            f"top-5 overlap with exact {entry['top5_overlap_with_exact']}"
        )
    lines.append(
        f"{report['n_items']} items, {sum(report['queries'].values())} queries, "
        f"{report['seconds']} s -> {args.out}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return bench_main(__doc__, DEFAULT_OUT, argv, arguments=_arguments, run=_run, summary=_summary)


if __name__ == "__main__":
    sys.exit(main())
