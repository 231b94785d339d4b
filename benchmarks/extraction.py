"""Extraction throughput: articles per second on one core and on all cores, per language, with a profile.

    .venv/bin/python benchmarks/extraction.py                       # 1,000 generated articles
    .venv/bin/python benchmarks/extraction.py --count 2000 --profile benchmarks/out/extract_profile.txt

Articles come from ``benchmarks/corpus.py`` (2-4 KB each, four languages). Stages are timed separately:
reading (decode, language, dates: ``kg.ingest``) and extraction (``kg.extract.extract``), each on one core
in this process after a warm-up on other articles (lexicons loaded), and on all cores through the build's
worker pool (``kg.parallel.Workers``, including process start, per-worker lexicon loading and moving
documents and results between processes). ``*_per_cpu_s`` divide by the CPU time the process got instead
of wall time: the per-core rate when other work shares the cores. Results are printed and written as JSON
(``--json``).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from corpus import generate  # noqa: E402

from kg.extract import extract  # noqa: E402
from kg.ingest import read_document  # noqa: E402
from kg.parallel import Workers, available_cores, extract_payload, read_article  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="articles (default 1000)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--jobs", type=int, default=0, help="workers for the all-cores run (default: all cores)")
    parser.add_argument("--profile", type=Path, help="write a cProfile summary of one-core extraction here")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "out" / "extraction.json")
    args = parser.parse_args(argv)
    jobs = args.jobs or available_cores()

    with tempfile.TemporaryDirectory(prefix="diplograph-extract-") as scratch:
        folder = Path(scratch) / "corpus"
        paths = generate(args.count, folder, seed=args.seed)
        warm = generate(40, Path(scratch) / "warm", seed=args.seed + 1)
        size = sum(p.stat().st_size for p in paths)
        for path in warm:  # load every language's data once, as a long build does
            extract(read_document(path))

        started, cpu = time.perf_counter(), time.process_time()
        docs = [read_document(p) for p in paths]
        read_s, read_cpu = time.perf_counter() - started, time.process_time() - cpu

        per_lang: dict[str, list[float]] = defaultdict(list)
        profiler = cProfile.Profile() if args.profile else None
        started, cpu = time.perf_counter(), time.process_time()
        for doc in docs:
            t0 = time.perf_counter()
            if profiler:
                profiler.enable()
            extract(doc)
            if profiler:
                profiler.disable()
            per_lang[doc.language].append(time.perf_counter() - t0)
        extract_s, extract_cpu = time.perf_counter() - started, time.process_time() - cpu

        started = time.perf_counter()
        with Workers(jobs, min_items=1) as workers:
            parallel_docs = list(workers.map(read_article, paths))
            read_all_s = time.perf_counter() - started
            started = time.perf_counter()
            payloads = list(workers.map(extract_payload, parallel_docs))
            extract_all_s = time.perf_counter() - started
        assert len(payloads) == len(docs)

    result = {
        "articles": args.count,
        "mean_bytes": round(size / args.count),
        "cores": jobs,
        "read_one_core_per_s": round(args.count / read_s, 1),
        "read_per_cpu_s": round(args.count / read_cpu, 1),
        "extract_one_core_per_s": round(args.count / extract_s, 1),
        "extract_per_cpu_s": round(args.count / extract_cpu, 1),
        "extract_one_core_kb_per_s": round(size / 1024 / extract_s, 1),
        "read_all_cores_per_s": round(args.count / read_all_s, 1),
        "extract_all_cores_per_s": round(args.count / extract_all_s, 1),
        "extract_ms_per_language": {
            lang: {"articles": len(times), "mean_ms": round(1000 * sum(times) / len(times), 1),
                   "max_ms": round(1000 * max(times), 1)}
            for lang, times in sorted(per_lang.items())
        },
    }
    print(json.dumps(result, indent=2))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if profiler:
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text).strip_dirs()
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
        args.profile.parent.mkdir(parents=True, exist_ok=True)
        args.profile.write_text(text.getvalue(), encoding="utf-8")
        print(f"profile -> {args.profile}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
