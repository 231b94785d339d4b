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
    parser.add_argument("-j", "--jobs", type=int, default=0, metavar="N",
                        help="worker processes reading and extracting articles (default 0: all cores)")
    parser.add_argument("--no-cache", action="store_true",
                        help="extract every article again and leave DIR/.cache alone (default: reuse the "
                             "extractions of unchanged articles kept there)")
    parser.add_argument("--dask", metavar="SCHEDULER",
                        help="extract on a Dask cluster: a scheduler address (tcp://host:8786), or 'local' for "
                             "a LocalCluster of --jobs workers on this machine (needs dask[distributed])")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    options = dict(store=not args.no_store, html=not args.no_html, validate=not args.no_validate,
                   jobs=args.jobs, cache=not args.no_cache)
    if args.dask:
        from kg.distributed import build_on_dask

        report = build_on_dask(args.source, args.out, scheduler=args.dask, **options)
    else:
        report = build(args.source, args.out, **options)
    print(report.summary(), file=sys.stderr)
    if args.strict and (report.errors or report.warnings):
        return 1
    return 0
