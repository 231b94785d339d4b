"""``diplograph query NAME_OR_FILE [--param name=value ...] [--format ...] [--store DIR | --graph FILE]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kg.errors import QueryError
from kg.query import FORMATS, collect_bindings, list_queries, resolve_query_arg, run_named, write_result
from kg.store import StoreError, open_store

DEFAULT_STORE = Path("exports/store")
DEFAULT_GRAPH = Path("exports/graph.ttl")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "query",
        help="run a named query of queries/ (or a .rq file) on the graph",
        description="Run a SPARQL query on the graph. NAME is a file of queries/ without .rq (see --list); "
        "an existing .rq/.sparql path runs that file. Parameters are bound as RDF terms: <iri> or a full "
        "IRI or a project prefixed name -> IRI, YYYY-MM-DD -> xsd:date, an integer -> xsd:integer, "
        "anything else (or \"quoted\") -> a string.",
    )
    parser.add_argument("query", nargs="?", metavar="NAME_OR_FILE", help="query name or .rq file")
    parser.add_argument("--param", "-p", action="append", default=[], metavar="NAME=VALUE",
                        help="bind ?NAME to VALUE (repeatable)")
    parser.add_argument("--format", "-f", default="table", choices=list(FORMATS),
                        help="output format (default: table); json/xml/csv/tsv are the SPARQL 1.1 results "
                        "formats; turtle/nt/jsonld/rdfxml for CONSTRUCT")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--store", type=Path, help=f"persistent store directory (default: {DEFAULT_STORE} "
                        f"if it exists, else {DEFAULT_GRAPH})")
    source.add_argument("--graph", type=Path, help="an RDF file (Turtle, N-Triples, ...) loaded into memory")
    parser.add_argument("--engine", choices=("oxigraph", "rdflib"), default="oxigraph",
                        help="engine for --graph (default: oxigraph)")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS", help="time limit")
    parser.add_argument("--max-rows", type=int, default=None, metavar="N", help="fail beyond N result rows")
    parser.add_argument("--list", action="store_true", help="list the named queries and exit")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.list:
        return _list()
    if not args.query:
        raise QueryError("give a query name or file (see `diplograph query --list`)")
    query = resolve_query_arg(args.query)
    bindings = collect_bindings(args.param)
    store = _open(args)
    result = run_named(store, query, bindings, timeout_s=args.timeout, max_rows=args.max_rows)
    try:
        write_result(result, args.format, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stdout = None  # type: ignore[assignment]  # silence the flush at exit
    return 0


def _open(args: argparse.Namespace):
    if args.store is not None:
        if args.engine != "oxigraph":
            raise StoreError("--store is an Oxigraph store: use --graph FILE with --engine rdflib")
        return open_store(args.store)
    if args.graph is not None:
        return open_store(args.graph, backend=args.engine)
    if DEFAULT_STORE.is_dir() and args.engine == "oxigraph":
        return open_store(DEFAULT_STORE)
    if DEFAULT_GRAPH.is_file():
        return open_store(DEFAULT_GRAPH, backend=args.engine)
    raise StoreError("no graph to query: build one (`diplograph build SRC --out exports`) or pass "
                     "--store DIR or --graph FILE")


def _list() -> int:
    queries = list_queries()
    width = max((len(q.name) for q in queries), default=0)
    for query in queries:
        params = " ".join(f"{p.name}{'' if p.required else '?'}" for p in query.params)
        line = f"{query.name.ljust(width)}  {query.title}"
        print(line + (f"  [{params}]" if params else ""))
    return 0
