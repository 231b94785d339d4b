"""Where a +1% rebuild's time goes: wall-clock timers around each step of an in-place rebuild, repeated.

    .venv/bin/python benchmarks/rebuild_steps.py 10000 --repeat 3
    .venv/bin/python benchmarks/rebuild_steps.py 100000 --keep benchmarks/out/scale   # reuses build_scale's corpus

A clean build of N generated articles (html off, store on, SHACL on, all cores; the corpus and its 1% aside
as ``build_scale.py`` writes them, in ``--keep`` where given), then ``--repeat`` cycles of: the 1% added and
the build run again in place, timed step by step; the 1% removed and the build run again (untimed), which
brings the output back to the clean build's (a rebuild in place writes a clean build's bytes). No output
folder is copied, so each timed rebuild starts from a graph.ttl the graph state knows as written. Each build
runs in a process of its own, as ``diplograph build`` does (in the process of an earlier build, forking the
pool and collecting took longer, and what a fresh process loads on first use was loaded already).

Each step is timed by wrapping the function that does it (``kg.incremental``, ``kg.pipeline``,
``kg.validate``: ``_report`` is the wait for the verdict on the new subjects, checked on the workers while
``_write`` runs); a step that runs inside another is counted in both. Results are appended to
``benchmarks/out/rebuild_steps.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from build_scale import append_result, corpus_with_extra, extra_added, run_child  # noqa: E402

import kg.incremental  # noqa: E402
import kg.pipeline  # noqa: E402
import kg.validate  # noqa: E402

#: (module, function) pairs timed, each under its own name.
STEPS = [
    (kg.pipeline, "read_documents"), (kg.pipeline, "extract_cached"), (kg.pipeline, "link_persons"),
    (kg.pipeline, "_update_store"), (kg.incremental, "load_state"), (kg.incremental, "save_state"),
    (kg.incremental, "owner_digests"), (kg.incremental, "partial_graph"), (kg.incremental, "_render"),
    (kg.incremental, "_check"), (kg.incremental, "_write"), (kg.validate, "_report"),
]


def timed(spent: Counter, name: str, function: Callable) -> Callable:
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - started

    return wrapper


def timed_build(source: Path, out: Path) -> dict:
    """One build with its steps timed (in this process: the ``--child`` mode)."""
    spent: Counter = Counter()
    for module, name in STEPS:
        setattr(module, name, timed(spent, name, getattr(module, name)))
    started = time.perf_counter()
    report = kg.pipeline.build(source, out, progress=lambda message: None, html=False)
    wall = time.perf_counter() - started
    return {"wall_s": round(wall, 2), "in_place": report.rewritten is not None,
            "stages": {k: round(v, 2) for k, v in report.timings.items()},
            "steps": {k: round(v, 2) for k, v in sorted(spent.items())}}


def build_in_child(source: Path, out: Path) -> dict:
    """:func:`timed_build` in a fresh process (this script's ``--child`` mode), as ``diplograph build`` runs."""
    return run_child([__file__, "--child", str(source), str(out)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", type=int, nargs="?", help="corpus size (articles)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="keep the corpus and output in this folder")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "out" / "rebuild_steps.jsonl")
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)  # SOURCE OUT: one timed build
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(timed_build(*args.child)))
        return 0
    if args.size is None:
        parser.error("the corpus size is required")

    scratch = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="diplograph-rebuild-"))
    scratch.mkdir(parents=True, exist_ok=True)
    out = scratch / f"rebuild-out-{args.size}"
    try:
        source, aside = corpus_with_extra(scratch, args.size, args.seed)
        shutil.rmtree(out, ignore_errors=True)

        clean = build_in_child(source, out)["wall_s"]
        runs = []
        for _ in range(args.repeat):
            with extra_added(source, aside):
                run = build_in_child(source, out)
            if not run.pop("in_place"):
                raise SystemExit("the rebuild was not in place")
            runs.append(run)
            print(json.dumps(run), file=sys.stderr)
            build_in_child(source, out)
        record = {"size": args.size, "added": len(list(aside.iterdir())), "clean_s": round(clean, 2), "rebuilds": runs,
                  "ratio": round(min(run["wall_s"] for run in runs) / clean, 3)}
        append_result(args.results, record)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
