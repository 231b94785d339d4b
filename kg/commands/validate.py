"""``diplograph validate [GRAPH] [--reason]``: check a graph against the SHACL shapes (and HermiT).

Exit status 0 when the graph conforms (and, with ``--reason``, HermiT finds it consistent), 1 otherwise with a
report naming each offending node, the property path and the rule it breaks.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kg.errors import UserError

DEFAULT_GRAPH = Path("exports/graph.ttl")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check a graph against the SHACL shapes of ontology/shapes.ttl (and, with --reason, HermiT)",
        description=__doc__.split("\n\n", 1)[0],
    )
    parser.add_argument(
        "graph", type=Path, nargs="?", default=DEFAULT_GRAPH, help=f"graph file (default {DEFAULT_GRAPH})"
    )
    parser.add_argument(
        "--reason",
        action="store_true",
        help="also check consistency with HermiT (needs Java; skipped with a note otherwise)",
    )
    parser.add_argument(
        "--inference", choices=("none", "rdfs"), default="none", help="pyshacl inference (default none)"
    )
    parser.set_defaults(func=run)


def load_graph(path: Path):
    """Parse an RDF file (format from its suffix, Turtle by default) or raise a UserError naming it."""
    from rdflib import Graph
    from rdflib.util import guess_format

    if not path.is_file():
        raise UserError(f"{path}: no such graph file (build it first: diplograph build SRC --out DIR)")
    graph = Graph()
    try:
        graph.parse(path, format=guess_format(str(path)) or "turtle")
    except Exception as error:  # rdflib raises many kinds of syntax errors
        raise UserError(f"{path}: cannot read the graph: {error}") from error
    return graph


def run(args: argparse.Namespace) -> int:
    from kg.validate import validate

    graph = load_graph(args.graph)
    report = validate(graph, inference=args.inference)
    ok = report.conforms
    print(f"{args.graph}: {report.text()}")
    if args.reason:
        from kg.reasoning import check_consistency

        result = check_consistency(graph)
        print(f"{args.graph}: {result.text()}")
        ok = ok and result.consistent is not False and result.coherent
    if not ok:
        print(f"diplograph validate: {args.graph} does not keep the graph's promises", file=sys.stderr)
    return 0 if ok else 1
