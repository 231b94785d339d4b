"""``diplograph export --format FORMAT [--graph GRAPH] [--out FILE]``: the graph for other systems.

Formats: turtle, ntriples, nquads (one named graph per article, plus shared, ontology and inferred graphs),
trig (the same named graphs), jsonld (compact, with the published context), csv (one row per meeting),
graphml (the meeting network), or ``all`` (every format into the folder ``--out``).
The same graph always gives the same bytes; files are replaced atomically.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kg.errors import UserError

DEFAULT_GRAPH = Path("exports/graph.ttl")


def register(subparsers) -> None:
    from kg.export import FORMATS

    parser = subparsers.add_parser(
        "export",
        help="write the graph as Turtle, N-Triples, N-Quads, TriG, JSON-LD, CSV of meetings or GraphML",
        description=__doc__.split("\n\n", 1)[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--format", "-f", required=True, choices=[*FORMATS, "all"], help="output format")
    parser.add_argument(
        "--graph", type=Path, default=DEFAULT_GRAPH, help=f"the built graph (default {DEFAULT_GRAPH})"
    )
    parser.add_argument(
        "--out",
        "-o",
        help="output file ('-' for standard output; default: export/<name> beside the graph); "
        "with --format all, the output folder",
    )
    parser.add_argument(
        "--inferred",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="add the inferred facts (default: yes for nquads and trig, in a named graph of their own; "
        "no otherwise)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kg.commands.validate import load_graph
    from kg.export import FORMATS, export, export_bytes

    graph = load_graph(args.graph)
    default_dir = args.graph.parent / "export"
    if args.format == "all":
        if args.out == "-":
            raise UserError("--format all writes several files: give a folder as --out")
        folder = Path(args.out) if args.out else default_dir
        for fmt, name in FORMATS.items():
            path = export(graph, fmt, folder / name, args.inferred)
            print(f"wrote {path}", file=sys.stderr)
        return 0
    if args.out == "-":
        sys.stdout.buffer.write(export_bytes(graph, args.format, args.inferred))
        sys.stdout.buffer.flush()
        return 0
    out = Path(args.out) if args.out else default_dir / FORMATS[args.format]
    if out.resolve() == args.graph.resolve():
        raise UserError(f"{out}: refusing to overwrite the input graph")
    path = export(graph, args.format, out, args.inferred)
    print(f"wrote {path}", file=sys.stderr)
    return 0
