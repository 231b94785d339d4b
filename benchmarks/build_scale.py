"""Build time, stage times and peak memory for generated corpora of 1k, 10k (and 100k) articles, and the cost
of an incremental rebuild after adding 1% more articles.

    .venv/bin/python benchmarks/build_scale.py 1000 10000                  # clean + incremental, all cores
    .venv/bin/python benchmarks/build_scale.py 100000 --no-validate --no-store --keep benchmarks/out/scale

For each N: the corpus generator writes N articles (and 1% more, kept aside); ``kg.pipeline.build`` runs in
a fresh process (``store`` on, ``html`` off unless ``--html``: the page has its own benchmark), then the 1%
is added and the build runs again on the cache. Each build reports wall time, the pipeline's stage
timings, triples, and peak resident memory (``resource.getrusage``: ``ru_maxrss`` of the building process,
and the largest of its worker processes) and CPU seconds (main process, workers). Results are appended
to ``benchmarks/out/build_scale.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from corpus import generate  # noqa: E402

_CHILD = r"""
import json, resource, sys, time
from kg.pipeline import build
source, out, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
started = time.perf_counter()
report = build(source, out, progress=lambda m: None, **options)
wall = time.perf_counter() - started
print(json.dumps({
    "wall_s": round(wall, 2), "articles": report.built, "meetings": report.meetings, "triples": report.triples,
    "extracted": report.extracted, "reused": report.reused, "jobs": report.jobs,
    "timings": {k: round(v, 2) for k, v in report.timings.items()},
    "peak_rss_mb_main": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    "peak_rss_mb_worker": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
    "cpu_s_main": round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 1),
    "cpu_s_workers": round(sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2]), 1),
}))
"""


def run_build(source: Path, out: Path, options: dict) -> dict:
    return run_child(["-c", _CHILD, str(source), str(out), json.dumps(options)])


def run_child(arguments: list[str]) -> dict:
    """A build in a fresh Python process (``arguments`` after the interpreter's name), as ``diplograph build``
    runs: the JSON object its last line of output is."""
    completed = subprocess.run([sys.executable, *arguments], capture_output=True, text=True, cwd=ROOT)
    if completed.returncode != 0:
        raise SystemExit(f"build failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


@contextmanager
def extra_added(source: Path, aside: Path) -> Iterator[None]:
    """The 1% kept aside (``corpus_with_extra``) copied into the corpus for the body, removed after it (not
    where the body fails: ``corpus_with_extra`` clears what an interrupted run left)."""
    added = sorted(aside.iterdir())
    for path in added:
        shutil.copy(path, source / path.name)
    yield
    for path in added:
        (source / path.name).unlink()


def corpus_with_extra(scratch: Path, size: int, seed: int) -> tuple[Path, Path]:
    """``scratch/corpus-SIZE`` (SIZE generated articles, written unless there) and ``scratch/extra-SIZE``
    (the 1% more, kept aside), with none of the 1% left in the corpus by an interrupted run."""
    extra = max(1, size // 100)
    source, aside = scratch / f"corpus-{size}", scratch / f"extra-{size}"
    if not source.exists():
        started = time.perf_counter()
        paths = generate(size + extra, source, seed=seed)
        aside.mkdir(exist_ok=True)
        for path in paths[size:]:
            path.rename(aside / path.name)
        print(f"generated {size + extra} articles in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    for path in (aside.iterdir() if aside.is_dir() else ()):
        (source / path.name).unlink(missing_ok=True)
    return source, aside


def append_result(results: Path, record: dict) -> None:
    """Append ``record`` to the JSON-lines file ``results``, and print it."""
    results.parent.mkdir(parents=True, exist_ok=True)
    with results.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
    print(json.dumps(record, indent=2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="+", type=int, help="corpus sizes (articles)")
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (default 0: all cores)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--html", action="store_true", help="also write graph.html")
    parser.add_argument("--no-store", action="store_true")
    parser.add_argument("--no-validate", action="store_true")
    parser.add_argument("--no-incremental", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep corpora and outputs in this folder")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "out" / "build_scale.jsonl")
    args = parser.parse_args(argv)
    options = {"jobs": args.jobs, "html": args.html, "store": not args.no_store, "validate": not args.no_validate}

    scratch = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="diplograph-scale-"))
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        for size in args.sizes:
            source, aside = corpus_with_extra(scratch, size, args.seed)
            out = scratch / f"out-{size}"
            shutil.rmtree(out, ignore_errors=True)
            record = {"size": size, "options": options, "corpus_mb": round(
                sum(p.stat().st_size for p in source.iterdir()) / 1e6, 1)}
            record["clean"] = run_build(source, out, options)
            print(json.dumps(record["clean"]), file=sys.stderr)
            if not args.no_incremental:
                with extra_added(source, aside):
                    record["incremental_1pct"] = run_build(source, out, options)
                record["incremental_ratio"] = round(record["incremental_1pct"]["wall_s"] / record["clean"]["wall_s"], 3)
                print(json.dumps(record["incremental_1pct"]), file=sys.stderr)
            append_result(args.results, record)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
