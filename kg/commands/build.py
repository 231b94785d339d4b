"""``diplograph build SRC_DIR --out DIR``: articles -> ``DIR/graph.ttl``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kg.pipeline import build


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("build", help="build the knowledge graph from a folder of articles")
    parser.add_argument("source", type=Path, help="folder of .txt/.md articles (searched recursively)")
    parser.add_argument("--out", type=Path, default=Path("exports"), help="output folder (default: exports)")
    parser.add_argument("--strict", action="store_true", help="exit non-zero when any article was skipped or warned")
    parser.add_argument("--no-store", action="store_true", help="do not build the Oxigraph store (DIR/store)")
    parser.add_argument("--no-html", action="store_true", help="do not write the interactive page (DIR/graph.html)")
    parser.add_argument("--no-validate", action="store_true", help="write the graph even if it breaks the SHACL shapes")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = build(args.source, args.out, store=not args.no_store, html=not args.no_html,
                   validate=not args.no_validate)
    print(report.summary(), file=sys.stderr)
    if args.strict and (report.errors or report.warnings):
        return 1
    return 0
