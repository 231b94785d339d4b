"""Latency of every named query on graphs of 10^5, 10^6 (and 10^7) triples: rdflib in memory vs the persistent
Oxigraph store (kg.store), side by side in one run.

    .venv/bin/python benchmarks/query_scale.py OUT/graph.ttl --sizes 100000 1000000
    .venv/bin/python benchmarks/query_scale.py OUT/graph.ttl --sizes 10000000 --rdflib-max 1000000 --runs 1

The graphs are made from a built graph (a generated corpus: ``benchmarks/build_scale.py --keep``) by
replication with fresh IRIs: replica k renames every article, meeting, evidence, person and tenure
(``…-rk``) and gives its persons and articles distinct labels and identifiers, while states, cities,
posts, topics, roles and the ontology stay shared, as they would in a bigger corpus. Parameters of the
queries come from the first replica (a real meeting, its article, two persons who met, one's state), so
the "selective" queries stay selective at every size.

Each backend runs in its own process (so its peak memory, ``ru_maxrss``, is its own): rdflib parses the
N-Triples into a ``Graph`` and runs the query with its own engine; the store is built with
``kg.store.build_store`` (bulk load into RocksDB) and opened read-only. A run is the query plus reading
every row as rdflib terms (what ``diplograph query`` does); the table shows the median of ``--runs`` runs
after a warm-up, ``>Ns`` past the time limit. A query run with the parameters of its example where they are
all optional is run without them too (``NAME (no parameters)``, an aggregate: state-interactions for every pair
of states). Results go to ``benchmarks/out/query_scale.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.query import check_params, list_queries, parse_param_value, run_named  # noqa: E402
from kg.store import QueryTimeout, build_store, open_store  # noqa: E402

ID = "https://w3id.org/diplograph/id/"
REPLICATED = ("article", "meeting", "evidence", "person", "tenure")
LABELS = {"http://www.w3.org/2000/01/rdf-schema#label", "http://www.w3.org/2004/02/skos/core#prefLabel",
          "http://www.w3.org/2004/02/skos/core#altLabel"}
IDENTIFIER = "http://purl.org/dc/terms/identifier"
NAME_KEY = "https://w3id.org/diplograph/ontology#nameKey"  # lower-cased labels: renamed like them
#: Queries that look up one thing (target: < 50 ms median at 10^6 triples on the store); the rest aggregate
#: or list the whole graph (target: < 3 s).
SELECTIVE = {"meeting-card", "meeting-evidence", "meetings-between", "meetings-of-actor", "posts-of-person",
             "post-holder-on-date", "search-actors", "topics-of-dyad", "state-interactions"}
#: A query whose example binds only optional parameters is timed without them too, under its name and this
#: (an aggregate: state-interactions for every pair of states, most-active-actors over all time).
UNBOUND = " (no parameters)"


def _kind(term) -> str | None:
    if isinstance(term, ox.NamedNode) and term.value.startswith(ID):
        kind = term.value[len(ID):].split("/", 1)[0]
        return kind if kind in REPLICATED else None
    return None


def replicate(graph: Path, target: int, out: Path) -> int:
    """Write ``out`` (N-Triples) with about ``target`` triples; returns the number written."""
    fixed, data = [], []
    for quad in ox.parse(path=str(graph), format=ox.RdfFormat.TURTLE):
        triple = ox.Triple(quad.subject, quad.predicate, quad.object)
        (data if _kind(quad.subject) or _kind(quad.object) else fixed).append(triple)
    replicas = max(1, math.ceil((target - len(fixed)) / max(1, len(data))))
    written = 0
    with out.open("wb") as handle:
        handle.write(ox.serialize(fixed, format=ox.RdfFormat.N_TRIPLES))
        written += len(fixed)
        for k in range(replicas):
            if k == 0:
                batch = data
            else:
                batch = [_renamed(t, k) for t in data]
            handle.write(ox.serialize(batch, format=ox.RdfFormat.N_TRIPLES))
            written += len(batch)
    return written


def _rename(term, k: int):
    return ox.NamedNode(f"{term.value}-r{k}") if _kind(term) else term


def _renamed(triple: ox.Triple, k: int) -> ox.Triple:
    s, p, o = triple.subject, triple.predicate, triple.object
    if isinstance(o, ox.Literal) and _kind(s) in ("person", "article") and (
            p.value in LABELS or p.value == IDENTIFIER or p.value == NAME_KEY):
        suffix = f"-r{k}" if p.value == IDENTIFIER else f" r{k}"
        o = ox.Literal(o.value + suffix, language=o.language) if o.language else \
            ox.Literal(o.value + suffix, datatype=o.datatype)
    return ox.Triple(_rename(s, k), p, _rename(o, k))


def choose_bindings(graph: Path) -> dict[str, str]:
    """Parameter values taken from the graph: a meeting of two persons, its article, their labels, a state."""
    store = ox.Store()
    store.bulk_load(path=str(graph), format=ox.RdfFormat.TURTLE)
    rows = list(store.query("""
        PREFIX dg: <https://w3id.org/diplograph/ontology#>
        PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?meeting ?article ?a ?b ?iso WHERE {
          ?meeting a dg:Meeting ; dg:date ?date ; prov:wasDerivedFrom/dcterms:identifier ?article ;
                   dg:participant ?pa, ?pb .
          ?pa a dg:Person ; rdfs:label ?a ; dg:affiliation/dg:isoCode ?iso .
          ?pb a dg:Person ; rdfs:label ?b .
          FILTER(STR(?a) < STR(?b))
        } ORDER BY ?meeting LIMIT 1"""))
    if not rows:
        return {}
    row = rows[0]
    a = row["a"].value
    return {"meeting": f"<{row['meeting'].value}>", "article": row["article"].value, "a": a, "b": row["b"].value,
            "actor": a, "person": a, "text": a.split()[-1].lower(), "state": row["iso"].value}


def bindings_for(named, chosen: dict[str, str]) -> dict:
    values: dict[str, str] = {}
    for example in named.examples[:1]:
        words = shlex.split(example)
        for i, word in enumerate(words[:-1]):
            if word in ("--param", "-p"):
                name, _, value = words[i + 1].partition("=")
                values[name] = value
    for name in values:
        if name in chosen:
            values[name] = chosen[name]
    return {name: parse_param_value(value) for name, value in values.items()}


def _timed(store, named, bindings, timeout) -> tuple[float, int]:
    """One run as ``diplograph query`` does it (names resolved first), every row read as rdflib terms."""
    started = time.perf_counter()
    rows = sum(1 for _ in run_named(store, named, bindings, timeout_s=timeout))
    return time.perf_counter() - started, rows


def worker(backend: str, nt: Path, store_dir: Path, chosen: dict, runs: int, timeout: float,
           only: list[str] | None = None) -> dict:
    """Load (or build) one backend and time every named query; runs in its own process."""
    started = time.perf_counter()
    if backend == "rdflib":
        store = open_store(nt, backend="rdflib")
    else:
        build_store(nt, store_dir)
        store = open_store(store_dir)
    load_s = time.perf_counter() - started
    results = {}
    for named in list_queries(ROOT / "queries"):
        if only and named.name not in only:
            continue
        bindings = bindings_for(named, chosen)
        check_params(named, bindings)
        cases = [(named.name, bindings)]
        if bindings and not named.required:
            cases.append((f"{named.name}{UNBOUND}", {}))  # the example's parameters are all optional
        for name, given in cases:
            try:
                first, rows = _timed(store, named, given, timeout)
                count = runs if first < 2 else 1  # slow queries: one timed run after the warm-up
                times = [_timed(store, named, given, timeout)[0] for _ in range(count)]
                results[name] = {"median_ms": round(1000 * statistics.median(times), 1), "rows": rows,
                                 "runs": count}
            except QueryTimeout:
                results[name] = {"median_ms": None, "rows": None, "timeout_s": timeout}
            print(f"  {backend} {name}: {results[name]}", file=sys.stderr, flush=True)
    return {"load_s": round(load_s, 2), "triples": len(store), "queries": results,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("graph", type=Path, help="a built graph.ttl (a generated corpus)")
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e5, 1e6])
    parser.add_argument("--rdflib-max", type=float, default=1e6, help="largest size rdflib is tried on")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per query run (store)")
    parser.add_argument("--rdflib-timeout", type=float, default=30.0, help="seconds per query run (rdflib)")
    parser.add_argument("--queries", nargs="+", help="only these named queries")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "out" / "query_scale.json")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        backend, nt, store_dir, chosen, runs, timeout, *rest = args.worker
        only = rest[0] if rest else "null"
        print(json.dumps(worker(backend, Path(nt), Path(store_dir), json.loads(chosen), int(runs), float(timeout),
                                json.loads(only))))
        return 0

    chosen = choose_bindings(args.graph)
    print(f"parameters from the graph: {chosen}", file=sys.stderr)
    report = {"graph": str(args.graph), "parameters": chosen, "sizes": {}}
    scratch = Path(tempfile.mkdtemp(prefix="diplograph-qscale-"))
    try:
        for size in [int(s) for s in args.sizes]:
            nt = scratch / f"graph-{size}.nt"
            started = time.perf_counter()
            triples = replicate(args.graph, size, nt)
            print(f"{triples:,} triples written in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            entry = {"triples": triples, "nt_mb": round(nt.stat().st_size / 1e6)}
            backends = [("store", args.timeout)] + ([("rdflib", args.rdflib_timeout)] if size <= args.rdflib_max
                                                    else [])
            for backend, timeout in backends:
                command = [sys.executable, __file__, str(args.graph), "--worker", backend, str(nt),
                           str(scratch / f"store-{size}"), json.dumps(chosen), str(args.runs), str(timeout),
                           json.dumps(args.queries)]
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode != 0:
                    entry[backend] = {"error": done.stderr[-2000:]}
                else:
                    entry[backend] = json.loads(done.stdout.strip().splitlines()[-1])
                print(f"{size:,} {backend}: load {entry[backend].get('load_s')} s, "
                      f"peak {entry[backend].get('peak_rss_mb')} MB", file=sys.stderr)
            shutil.rmtree(scratch / f"store-{size}", ignore_errors=True)
            nt.unlink()
            report["sizes"][str(size)] = entry
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
            print(table(entry, size))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def table(entry: dict, size: int) -> str:
    """A Markdown table: one row per query, store and rdflib medians side by side."""
    store, rdf = entry.get("store", {}), entry.get("rdflib")
    lines = [f"#### {entry['triples']:,} triples (target {size:.0e})", "",
             f"store: built in {store.get('load_s')} s, peak {store.get('peak_rss_mb')} MB"
             + (f"; rdflib: loaded in {rdf.get('load_s')} s, peak {rdf.get('peak_rss_mb')} MB" if rdf else
                "; rdflib: not run at this size"), "",
             "| query | kind | rows | store ms | rdflib ms | rdflib/store |", "|---|---|---:|---:|---:|---:|"]

    def cell(result):
        if not result:
            return "-"
        return f">{result['timeout_s']:g} s" if result.get("median_ms") is None else f"{result['median_ms']:,}"

    for name, result in store.get("queries", {}).items():
        other = (rdf or {}).get("queries", {}).get(name)
        ratio = "-"
        if other and other.get("median_ms") and result.get("median_ms"):
            ratio = f"{other['median_ms'] / result['median_ms']:,.0f}x"
        rows = result.get("rows") if result.get("rows") is not None else (other or {}).get("rows", "?")
        kind = "selective" if name in SELECTIVE else "aggregate"  # "NAME (no parameters)" is not in it
        lines.append(f"| {name} | {kind} | {rows} | {cell(result)} | {cell(other)} | {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
