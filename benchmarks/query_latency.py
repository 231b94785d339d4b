"""Latency of every named query: rdflib in memory vs the persistent Oxigraph store (and Oxigraph in memory).

Run on demand (not part of the tests):

    .venv/bin/python benchmarks/query_latency.py                         # tests/data/sample_graph.ttl
    .venv/bin/python benchmarks/query_latency.py exports/graph.ttl --runs 7 --store exports/store

Each query runs with the parameters of its header's ``Example:`` line, ``--runs`` times per backend after
one warm-up run; a run is the query plus reading every row as rdflib terms (what ``diplograph query``
does). The table shows the median in milliseconds and the row count. Without ``--store`` the persistent
store is built from the graph into a temporary folder (and the build time is reported).
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.errors import QueryError  # noqa: E402
from kg.query import check_params, list_queries, parse_param_value  # noqa: E402
from kg.store import QueryTimeout, build_store, open_store  # noqa: E402


def example_bindings(named) -> dict:
    bindings = {}
    for example in named.examples[:1]:
        words = shlex.split(example)
        for i, word in enumerate(words[:-1]):
            if word in ("--param", "-p"):
                name, _, value = words[i + 1].partition("=")
                bindings[name] = parse_param_value(value)
    return bindings


def timed(store, text, bindings, timeout_s) -> tuple[float, int]:
    started = time.perf_counter()
    rows = sum(1 for _ in store.query(text, bindings, timeout_s=timeout_s))
    return time.perf_counter() - started, rows


def measure(store, text, bindings, runs, timeout_s) -> tuple[float | None, int | None]:
    """Median seconds over ``runs`` (after a warm-up), or (None, None) past the time limit."""
    try:
        _, rows = timed(store, text, bindings, timeout_s)
        times = [timed(store, text, bindings, timeout_s)[0] for _ in range(runs)]
    except QueryTimeout:
        return None, None
    return statistics.median(times), rows


def _line(cells: list[str], widths: list[int]) -> str:
    """The first column left-aligned, the others right-aligned."""
    pairs = zip(cells, widths, strict=True)
    return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(pairs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("graph", nargs="?", type=Path, default=ROOT / "tests" / "data" / "sample_graph.ttl")
    parser.add_argument("--store", type=Path, help="an existing persistent store of the same graph")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per query and backend (default 5)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a run is abandoned")
    parser.add_argument("--no-memory-oxigraph", action="store_true", help="skip Oxigraph in memory")
    parser.add_argument("--queries", nargs="*", help="only these named queries")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    rdflib_store = open_store(args.graph, backend="rdflib")
    rdflib_load = time.perf_counter() - started
    print(f"graph: {args.graph} ({len(rdflib_store)} triples); rdflib load {rdflib_load:.2f} s")
    backends = {"rdflib-memory": rdflib_store}
    with tempfile.TemporaryDirectory(prefix="diplograph-bench-") as scratch:
        store_dir = args.store
        if store_dir is None:
            store_dir = Path(scratch) / "store"
            started = time.perf_counter()
            build_store(args.graph, store_dir)
            print(f"persistent store built in {time.perf_counter() - started:.2f} s")
        backends["oxigraph-disk"] = open_store(store_dir)
        if not args.no_memory_oxigraph:
            started = time.perf_counter()
            backends["oxigraph-memory"] = open_store(args.graph)
            print(f"oxigraph in-memory load {time.perf_counter() - started:.2f} s")
        print(f"median of {args.runs} runs after a warm-up, in ms "
              "(query + reading every row as rdflib terms)\n")

        names = list(backends)
        header = ["query", "rows", *names, "rdflib/disk"]
        lines = []
        for named in list_queries():
            if args.queries and named.name not in args.queries:
                continue
            bindings = example_bindings(named)
            try:
                check_params(named, bindings)
            except QueryError as error:
                lines.append([named.name, "-", *(["skipped"] * len(names)), str(error)[:40]])
                continue
            cells, medians, rows_seen = [], {}, None
            for name in names:
                median, rows = measure(backends[name], named.text, bindings, args.runs, args.timeout)
                medians[name] = median
                rows_seen = rows if rows is not None else rows_seen
                cells.append(f">{args.timeout:g}s" if median is None else f"{median * 1000:.1f}")
            ratio = "-"
            if medians.get("rdflib-memory") and medians.get("oxigraph-disk"):
                ratio = f"{medians['rdflib-memory'] / medians['oxigraph-disk']:.1f}x"
            lines.append([named.name, str(rows_seen if rows_seen is not None else "?"), *cells, ratio])
        widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]
        print(_line(header, widths))
        print("  ".join("-" * w for w in widths))
        for row in lines:
            print(_line(row, widths))
        for store in backends.values():
            store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
