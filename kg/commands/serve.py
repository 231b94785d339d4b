"""``diplograph serve [--host 127.0.0.1 --port 7878 --store exports/store --timeout 10]``."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from kg.errors import UserError

DEFAULT_STORE = Path("exports/store")
DEFAULT_GRAPH = Path("exports/graph.ttl")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the graph as a read-only SPARQL endpoint with a query page",
        description="A read-only SPARQL 1.1 Protocol endpoint at /sparql and a YASGUI query page at /, "
        "on the loopback interface unless --host says otherwise.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7878, help="port (default: 7878; 0 picks a free one)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--store", type=Path, help=f"persistent store directory (default: {DEFAULT_STORE} "
                        f"if it exists, else {DEFAULT_GRAPH} loaded into memory)")
    source.add_argument("--graph", type=Path, help="an RDF file loaded into memory by each worker")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                        help="time limit per query (default: 10)")
    parser.add_argument("--max-rows", type=int, default=10_000, metavar="N",
                        help="refuse results of more than N rows (default: 10000)")
    parser.add_argument("--workers", type=int, default=2, help="query worker processes (default: 2)")
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kg.server import _self_check, make_server, serve

    source = args.store or args.graph
    if source is None:
        if DEFAULT_STORE.is_dir():
            source = DEFAULT_STORE
        elif DEFAULT_GRAPH.is_file():
            source = DEFAULT_GRAPH
        else:
            raise UserError("no graph to serve: build one (`diplograph build SRC --out exports`) "
                            "or pass --store DIR or --graph FILE")
    if args.timeout <= 0 or args.max_rows <= 0 or args.workers <= 0:
        raise UserError("--timeout, --max-rows and --workers must be positive")
    server = make_server(source, host=args.host, port=args.port, timeout_s=args.timeout,
                         max_rows=args.max_rows, workers=args.workers, quiet=args.quiet)
    triples = _self_check(server)
    print(f"diplograph serve: {triples} triples from {source}; SPARQL endpoint {server.url}sparql, "
          f"query page {server.url} (Ctrl-C stops)", file=sys.stderr, flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("diplograph serve: warning: listening beyond the loopback interface", file=sys.stderr)
    signal.signal(signal.SIGTERM, _stop)  # `kill` stops it as Ctrl-C does: workers closed, socket released
    serve(server)
    return 0


def _stop(signum, frame) -> None:
    raise KeyboardInterrupt
