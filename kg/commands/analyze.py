"""``diplograph analyze``: network analysis of a built graph, written as JSON, CSV, Markdown and PNG.

    diplograph analyze [--graph exports/graph.ttl] [--from DATE] [--to DATE] [--topic T] --out DIR
                       [--html] [--gephi] [--no-charts]

``--from``/``--to`` take ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (inclusive, compared at the meeting's
precision; undated meetings drop out of a sliced period); ``--topic`` a topic notation (repeatable).
``--html`` adds ``graph.html`` (the actor network of the slice), ``--gephi`` the projections as GraphML and
GEXF under ``DIR/graphs/``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kg.errors import UserError

DEFAULT_GRAPH = Path("exports/graph.ttl")
DEFAULT_OUT = Path("exports/analysis")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="network analysis of the meeting graph (centralities, communities, dyads, topics, activity)",
        description=__doc__.split("\n\n", 1)[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--graph", type=Path, default=DEFAULT_GRAPH, help=f"Turtle graph (default {DEFAULT_GRAPH})"
    )
    parser.add_argument("--from", dest="date_from", metavar="DATE", help="first day/month/year included")
    parser.add_argument("--to", dest="date_to", metavar="DATE", help="last day/month/year included")
    parser.add_argument(
        "--topic", action="append", metavar="T", help="keep meetings with this topic notation (repeatable)"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})"
    )
    parser.add_argument("--seed", type=int, default=42, help="seed for Louvain and sampling (default 42)")
    parser.add_argument("--html", action="store_true", help="also write graph.html for the slice")
    parser.add_argument("--gephi", action="store_true", help="also write GraphML and GEXF of the projections")
    parser.add_argument("--no-charts", action="store_true", help="skip the PNG charts")
    parser.set_defaults(func=run)


def _load(path: Path):
    from rdflib import Graph

    if not path.is_file():
        raise UserError(f"{path}: no such graph file (build it first: diplograph build ... --out DIR)")
    graph = Graph()
    try:
        graph.parse(path, format="turtle")
    except Exception as error:  # rdflib raises many kinds of syntax errors
        raise UserError(f"{path}: cannot read the graph: {error}") from error
    return graph


def run(args: argparse.Namespace) -> int:
    from kg import analysis, projections

    for name, value in (("--from", args.date_from), ("--to", args.date_to)):
        try:
            projections.check_iso(value, name)
        except ValueError as error:
            raise UserError(str(error)) from error
    if args.date_from and args.date_to and args.date_from > args.date_to[: len(args.date_from)]:
        raise UserError(f"--from {args.date_from} is after --to {args.date_to}")
    topic = sorted(set(args.topic)) if args.topic else None
    topic_arg = topic[0] if topic and len(topic) == 1 else topic

    data = projections.load_meetings(_load(args.graph))
    unknown = sorted(set(topic or ()) - set(data.topics))
    if unknown:
        known = ", ".join(sorted(data.topics)) or "none"
        raise UserError(f"unknown topic {', '.join(unknown)} (topics in the graph: {known})")
    result = analysis.analyze(data, args.date_from, args.date_to, topic_arg, seed=args.seed)
    if topic and len(topic) > 1:
        result["parameters"]["topic"] = ",".join(topic)
    written = analysis.write_analysis(result, args.out, charts=not args.no_charts)
    if args.html:
        from kg.html import write_graph_html

        graph = projections.actor_graph(data, args.date_from, args.date_to, topic_arg)
        written.append(write_graph_html(graph, args.out / "graph.html", seed=args.seed))
    if args.gephi:
        from kg.graphml import export_projections

        written += export_projections(data, args.out / "graphs", args.date_from, args.date_to, topic_arg)
    summary = result["summary"]
    print(
        f"analyzed {summary['meetings']} meetings, {summary['participants']} participants; "
        f"wrote {len(written)} files to {args.out}",
        file=sys.stderr,
    )
    return 0
