"""``diplograph push --endpoint URL [FILE] [--graph IRI]``: upload the graph to a SPARQL Graph Store.

Any server that speaks the SPARQL 1.1 Graph Store Protocol takes it: Oxigraph (``/store``), Fuseki
(``/DATASET/data``), GraphDB (``/repositories/REPO/rdf-graphs/service``), Virtuoso
(``/sparql-graph-crud-auth``). FILE defaults to exports/graph.ttl; an N-Quads or TriG file
(``diplograph export --format nquads``) is uploaded graph by graph, and ``--per-article`` splits a Turtle
file into one named graph per article first. Each graph is replaced (HTTP PUT) unless ``--append``; big
graphs go in chunks of ``--chunk-triples``. The password can come from $DIPLOGRAPH_PUSH_PASSWORD instead of
the command line.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kg.push import DEFAULT_CHUNK_TRIPLES, push

DEFAULT_FILE = Path("exports/graph.ttl")
PASSWORD_VARIABLE = "DIPLOGRAPH_PUSH_PASSWORD"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "push",
        help="upload the graph to a SPARQL 1.1 Graph Store Protocol server",
        description=__doc__.split("\n\n", 1)[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE,
                        help=f"RDF file to upload: .ttl, .nt, .nq or .trig (default {DEFAULT_FILE})")
    parser.add_argument("--endpoint", required=True,
                        help="the Graph Store URL, e.g. http://127.0.0.1:7878/store")
    parser.add_argument("--graph", metavar="IRI", help="target named graph (default: the default graph)")
    parser.add_argument("--per-article", action="store_true",
                        help="one named graph per article (plus shared and ontology graphs), as in "
                             "`diplograph export --format nquads`")
    parser.add_argument("--append", action="store_true", help="add to the graph(s) instead of replacing them")
    parser.add_argument("--user", help="user name for HTTP Basic authentication")
    parser.add_argument("--password", help=f"password (default: ${PASSWORD_VARIABLE})")
    parser.add_argument("--chunk-triples", type=int, default=DEFAULT_CHUNK_TRIPLES, metavar="N",
                        help=f"triples per request (default {DEFAULT_CHUNK_TRIPLES:,})")
    parser.add_argument("--timeout", type=float, default=300.0, metavar="S", help="seconds per request")
    parser.add_argument("--quiet", "-q", action="store_true", help="no line per request")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    password = args.password if args.password is not None else os.environ.get(PASSWORD_VARIABLE)
    progress = None if args.quiet else (lambda message: print(message, file=sys.stderr))
    report = push(args.file, args.endpoint, args.graph, per_article=args.per_article, append=args.append,
                  user=args.user, password=password, chunk_triples=args.chunk_triples, timeout=args.timeout,
                  progress=progress)
    print(report.summary(), file=sys.stderr)
    return 0
