"""Network analysis of the meeting graph: centralities, communities, brokers, dyads, topics and activity.

:func:`analyze` computes everything for one slice (period, topic) of the graph and returns plain data
(dicts, lists, strings, ints, floats rounded to 6 places); :func:`write_analysis` writes it as JSON, CSV,
a Markdown report and PNG charts. Both are deterministic: the projections are built in sorted order,
Louvain and sampled betweenness run with a fixed seed, every list is sorted with a total order, and the PNG
files carry no timestamp or software version.

Measures, computed on the person–person, actor–actor and state–state projections
(:mod:`kg.projections`):

* ``degree`` (distinct partners) and ``weighted_degree`` (sum of meeting counts over partners);
* ``betweenness`` — shortest paths counted in hops, normalised; exact up to
  :data:`EXACT_BETWEENNESS_LIMIT` nodes, sampled from ``k`` pivots with the seed above that;
* ``pagerank`` — weighted by meeting counts, damping 0.85 (computed here with NumPy; equal to
  ``networkx.pagerank`` to within the tolerance, without needing SciPy);
* ``community`` — Louvain (weighted, ``seed``), numbered 1.. by decreasing size;
* brokers — nodes with partners in other communities, ranked by the number of communities they reach,
  then betweenness; ``participation`` is the participation coefficient ``1 - Σ_c (k_ic / k_i)²``
  over weighted degree.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np

from kg import projections as proj
from kg.serialize import write_atomic

SEED = 42
EXACT_BETWEENNESS_LIMIT = 1000
BETWEENNESS_PIVOTS = 256
ANALYSED = ("person", "actor", "state")
REPORT_TOP = 10


def _r(value: float) -> float:
    """Round for output (6 places, and never ``-0.0``) so the files do not change with float noise."""
    return round(float(value), 6) + 0.0


# --- measures -----------------------------------------------------------------------------------------


def pagerank(
    graph: nx.Graph, alpha: float = 0.85, weight: str = "weight", tol: float = 1e-12, max_iter: int = 1000
) -> dict:
    """Weighted PageRank of an undirected graph by power iteration (dangling mass spread uniformly).

    >>> g = nx.star_graph(3)
    >>> ranks = pagerank(g)
    >>> round(ranks[0], 4), round(ranks[1], 4), round(sum(ranks.values()), 6)
    (0.4797, 0.1734, 1.0)
    """
    nodes = list(graph)
    n = len(nodes)
    if n == 0:
        return {}
    index = {node: i for i, node in enumerate(nodes)}
    src, dst, w = [], [], []
    for u, v, data in graph.edges(data=True):
        if u == v:
            continue
        value = float(data.get(weight, 1.0))
        src += [index[u], index[v]]
        dst += [index[v], index[u]]
        w += [value, value]
    src_a, dst_a, w_a = np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64), np.array(w)
    strength = np.bincount(src_a, weights=w_a, minlength=n) if len(w) else np.zeros(n)
    dangling = strength == 0
    share = np.divide(w_a, strength[src_a], out=np.zeros_like(w_a), where=strength[src_a] > 0)
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        flow = np.bincount(dst_a, weights=share * x[src_a], minlength=n) if len(w) else np.zeros(n)
        new = alpha * (flow + x[dangling].sum() / n) + (1.0 - alpha) / n
        done = np.abs(new - x).sum() < n * tol
        x = new
        if done:
            break
    x = x / x.sum()
    return {node: float(x[index[node]]) for node in nodes}


def betweenness_method(graph: nx.Graph) -> str:
    if graph.number_of_nodes() <= EXACT_BETWEENNESS_LIMIT:
        return "exact"
    return f"sampled from {BETWEENNESS_PIVOTS} pivots"


def betweenness(graph: nx.Graph, seed: int = SEED) -> dict:
    """Normalised betweenness in hops: exact for small graphs, pivot-sampled with ``seed`` for large ones."""
    if graph.number_of_nodes() <= EXACT_BETWEENNESS_LIMIT:
        return nx.betweenness_centrality(graph, normalized=True)
    return nx.betweenness_centrality(graph, k=BETWEENNESS_PIVOTS, normalized=True, seed=seed)


def communities(graph: nx.Graph, seed: int = SEED) -> list[list]:
    """Louvain communities (weighted, fixed seed), largest first, each sorted; ties by first member."""
    if graph.number_of_edges() == 0:
        groups = [{node} for node in graph]
    else:
        groups = nx.community.louvain_communities(graph, weight="weight", seed=seed)
    ordered = [sorted(group) for group in groups]
    ordered.sort(key=lambda group: (-len(group), group[0]))
    return ordered


def _membership(groups: list[list]) -> dict:
    return {node: number for number, group in enumerate(groups, start=1) for node in group}


def centrality_table(graph: nx.Graph, seed: int = SEED) -> tuple[list[dict], list[list]]:
    """One row per node with every measure, sorted by PageRank (then label, IRI); and the communities."""
    ranks = pagerank(graph)
    between = betweenness(graph, seed)
    groups = communities(graph, seed)
    member = _membership(groups)
    rows = []
    for node, data in graph.nodes(data=True):
        rows.append(
            {
                "node": node,
                "label": data.get("label", node),
                "type": data.get("type", ""),
                "affiliation": data.get("affiliation", ""),
                "meetings": int(data.get("meetings", 0)),
                "degree": graph.degree(node),
                "weighted_degree": int(graph.degree(node, weight="weight")),
                "betweenness": _r(between.get(node, 0.0)),
                "pagerank": _r(ranks.get(node, 0.0)),
                "community": member.get(node, 0),
            }
        )
    rows.sort(key=lambda r: (-r["pagerank"], -r["weighted_degree"], r["label"], r["node"]))
    return rows, groups


def brokers(graph: nx.Graph, rows: list[dict]) -> list[dict]:
    """Nodes whose partners lie in other communities than their own, the most bridging first."""
    by_node = {row["node"]: row for row in rows}
    result = []
    for node in graph:
        own = by_node[node]["community"]
        per_community: Counter = Counter()
        for neighbour, data in graph[node].items():
            per_community[by_node[neighbour]["community"]] += data.get("weight", 1)
        others = sorted(c for c in per_community if c != own)
        if not others:
            continue
        total = sum(per_community.values())
        participation = 1.0 - sum((k / total) ** 2 for k in per_community.values())
        row = by_node[node]
        result.append(
            {
                "node": node,
                "label": row["label"],
                "type": row["type"],
                "community": own,
                "bridged_communities": others,
                "communities_reached": len(others),
                "external_weight": int(sum(per_community[c] for c in others)),
                "participation": _r(participation),
                "betweenness": row["betweenness"],
            }
        )
    result.sort(
        key=lambda r: (
            -r["communities_reached"], -r["betweenness"], -r["participation"], r["label"], r["node"]
        )
    )  # fmt: skip
    return result


def dyads(graph: nx.Graph) -> list[dict]:
    """Every edge as a dyad, the most frequent first (then the most recent, then by labels)."""
    rows = []
    for u, v, data in graph.edges(data=True):
        a, b = sorted((u, v), key=lambda n: (graph.nodes[n].get("label", n), n))
        rows.append(
            {
                "source": a,
                "source_label": graph.nodes[a].get("label", a),
                "target": b,
                "target_label": graph.nodes[b].get("label", b),
                "weight": int(data.get("weight", 1)),
                "first_date": data.get("first_date", ""),
                "last_date": data.get("last_date", ""),
                "topics": list(data.get("topics", [])),
                "meetings": list(data.get("meetings", [])),
            }
        )
    rows.sort(key=lambda r: (-r["weight"], r["source_label"], r["target_label"], r["source"], r["target"]))
    return rows


def topics_per_actor(bipartite: nx.Graph) -> list[dict]:
    """Rows (actor, topic, meetings) from the actor–topic projection, by actor label then frequency."""
    rows = []
    for actor, data in bipartite.nodes(data=True):
        if data.get("bipartite") != 0:
            continue
        for topic_iri, edge in bipartite[actor].items():
            topic = bipartite.nodes[topic_iri]
            rows.append(
                {
                    "actor": actor,
                    "label": data["label"],
                    "type": data["type"],
                    "topic": topic["notation"],
                    "topic_label": topic["label"],
                    "meetings": int(edge["weight"]),
                }
            )
    rows.sort(key=lambda r: (r["label"], r["actor"], -r["meetings"], r["topic"]))
    return rows


def _month_range(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def meetings_per_month(meetings: list[proj.MeetingRow]) -> dict:
    """Meetings counted per month (every month between the first and last, zeros included).

    Meetings known only to the year are counted per year under ``year_only``; undated ones under
    ``undated``.
    """
    by_month: Counter = Counter()
    by_year: Counter = Counter()
    undated = 0
    for meeting in meetings:
        if meeting.date is None:
            undated += 1
        elif len(meeting.date) >= 7:
            by_month[meeting.date[:7]] += 1
        else:
            by_year[meeting.date[:4]] += 1
    months = _month_range(min(by_month), max(by_month)) if by_month else []
    return {
        "months": [{"month": m, "meetings": by_month.get(m, 0)} for m in months],
        "year_only": [{"year": y, "meetings": by_year[y]} for y in sorted(by_year)],
        "undated": undated,
    }


# --- the whole analysis -------------------------------------------------------------------------------


def _projection_summary(graph: nx.Graph, seed: int) -> dict:
    rows, groups = centrality_table(graph, seed)
    labels = {row["node"]: row["label"] for row in rows}
    rank = {row["node"]: i for i, row in enumerate(rows)}
    groups = [sorted(group, key=rank.__getitem__) for group in groups]  # most central member first
    modularity = (
        nx.community.modularity(graph, [set(g) for g in groups], weight="weight")
        if graph.number_of_edges()
        else 0.0
    )
    return {
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "meetings_weight": int(graph.size(weight="weight")),
        "density": _r(nx.density(graph)) if graph.number_of_nodes() > 1 else 0.0,
        "components": nx.number_connected_components(graph) if graph.number_of_nodes() else 0,
        "modularity": _r(modularity),
        "betweenness": betweenness_method(graph),
        "centrality": rows,
        "communities": [
            {"community": i, "size": len(g), "members": g, "labels": [labels[n] for n in g]}
            for i, g in enumerate(groups, start=1)
        ],
        "brokers": brokers(graph, rows),
        "dyads": dyads(graph),
    }


def analyze(
    source,
    date_from: str | None = None,
    date_to: str | None = None,
    topic: str | None = None,
    seed: int = SEED,
) -> dict:
    """Analyse the meetings of ``source`` (an rdflib Graph or :class:`kg.projections.MeetingData`)."""
    data = source if isinstance(source, proj.MeetingData) else proj.load_meetings(source)
    meetings = proj.select_meetings(data, date_from, date_to, topic)
    participants = sorted({p for m in meetings for p in m.participants})
    types = Counter(data.actor(p).type for p in participants)
    topic_counts = Counter(t for m in meetings for t in m.topics)
    result: dict = {
        "parameters": {"date_from": date_from, "date_to": date_to, "topic": topic, "seed": seed},
        "summary": {
            "meetings": len(meetings),
            "dated_to_day": sum(1 for m in meetings if m.date and len(m.date) == 10),
            "undated": sum(1 for m in meetings if m.date is None),
            "participants": len(participants),
            "persons": types.get("Person", 0),
            "states": types.get("State", 0),
            "organizations": types.get("Organization", 0),
            "topics": len(topic_counts),
        },
        "topics": [
            {"topic": t, "label": data.topics[t].label, "meetings": topic_counts[t]}
            for t in sorted(topic_counts, key=lambda t: (-topic_counts[t], t))
        ],
        "projections": {},
    }
    for name in ANALYSED:
        graph = proj.PROJECTIONS[name](data, date_from, date_to, topic)
        result["projections"][name] = _projection_summary(graph, seed)
    result["topics_per_actor"] = topics_per_actor(proj.actor_topic_graph(data, date_from, date_to, topic))
    result["meetings_per_month"] = meetings_per_month(meetings)
    return result


# --- writing ------------------------------------------------------------------------------------------


def json_bytes(value) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def csv_bytes(rows: list[dict], columns: list[str]) -> bytes:
    """CSV with a header; list values joined with ``;``, newlines ``\\n``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [";".join(map(str, row[c])) if isinstance(row.get(c), list) else row.get(c, "") for c in columns]
        )
    return buffer.getvalue().encode("utf-8")


CENTRALITY_COLUMNS = [
    "node", "label", "type", "affiliation", "meetings", "degree", "weighted_degree",
    "betweenness", "pagerank", "community",
]  # fmt: skip
BROKER_COLUMNS = [
    "projection", "node", "label", "type", "community", "bridged_communities", "communities_reached",
    "external_weight", "participation", "betweenness",
]  # fmt: skip
DYAD_COLUMNS = [
    "projection", "source", "source_label", "target", "target_label", "weight", "first_date", "last_date",
    "topics", "meetings",
]  # fmt: skip
COMMUNITY_COLUMNS = ["projection", "community", "size", "node", "label", "type"]
TOPIC_COLUMNS = ["actor", "label", "type", "topic", "topic_label", "meetings"]


def output_files(result: dict, charts: bool = True) -> dict[str, bytes]:
    """Every output file of an analysis, by file name, as bytes."""
    files: dict[str, bytes] = {"analysis.json": json_bytes(result)}
    broker_rows, dyad_rows, community_rows = [], [], []
    for name, section in result["projections"].items():
        files[f"centrality_{name}.csv"] = csv_bytes(section["centrality"], CENTRALITY_COLUMNS)
        broker_rows += [{"projection": name, **row} for row in section["brokers"]]
        dyad_rows += [{"projection": name, **row} for row in section["dyads"]]
        types = {row["node"]: row["type"] for row in section["centrality"]}
        for group in section["communities"]:
            for node, label in zip(group["members"], group["labels"], strict=True):
                community_rows.append(
                    {"projection": name, "community": group["community"], "size": group["size"],
                     "node": node, "label": label, "type": types[node]}
                )  # fmt: skip
    files["brokers.csv"] = csv_bytes(broker_rows, BROKER_COLUMNS)
    files["dyads.csv"] = csv_bytes(dyad_rows, DYAD_COLUMNS)
    files["communities.csv"] = csv_bytes(community_rows, COMMUNITY_COLUMNS)
    files["topics_per_actor.csv"] = csv_bytes(result["topics_per_actor"], TOPIC_COLUMNS)
    per_month = result["meetings_per_month"]
    files["meetings_per_month.csv"] = csv_bytes(per_month["months"], ["month", "meetings"])
    chart_files = _charts(result) if charts else {}
    files.update(chart_files)
    files["report.md"] = render_report(result, sorted(chart_files)).encode("utf-8")
    return files


def write_analysis(result: dict, out_dir: Path, charts: bool = True) -> list[Path]:
    """Write the analysis files into ``out_dir`` (atomically, one by one); return their paths."""
    out_dir = Path(out_dir)
    paths = []
    for name, data in sorted(output_files(result, charts).items()):
        write_atomic(out_dir / name, data)
        paths.append(out_dir / name)
    return paths


# --- charts -------------------------------------------------------------------------------------------

TYPE_COLOURS = {
    "Person": "#4C78A8",
    "State": "#E45756",
    "Organization": "#54A24B",
    "Topic": "#F58518",
    "Actor": "#9D9D9D",
}


def _charts(result: dict) -> dict[str, bytes]:
    """PNG charts (matplotlib, Agg); none when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # charts are optional
        return {}
    plt.rcParams.update({"font.family": "DejaVu Sans", "svg.hashsalt": "diplograph"})
    files = {}
    months = result["meetings_per_month"]["months"]
    if months:
        fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
        ax.bar([m["month"] for m in months], [m["meetings"] for m in months], color=TYPE_COLOURS["Person"])
        ax.set_title("Meetings per month")
        ax.set_ylabel("meetings")
        ax.yaxis.get_major_locator().set_params(integer=True)
        step = max(1, len(months) // 12)
        ax.set_xticks(range(0, len(months), step), [months[i]["month"] for i in range(0, len(months), step)])
        ax.tick_params(axis="x", labelrotation=45)
        fig.tight_layout()
        files["meetings_per_month.png"] = _png(fig, plt)
    top = result["projections"]["actor"]["centrality"][:15]
    if top:
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(top) + 1.2), dpi=100)
        labels = [_short(row["label"], 40) for row in reversed(top)]
        values = [row["pagerank"] for row in reversed(top)]
        colours = [TYPE_COLOURS.get(row["type"], TYPE_COLOURS["Actor"]) for row in reversed(top)]
        ax.barh(range(len(top)), values, color=colours)
        ax.set_yticks(range(len(top)), labels)
        ax.set_xlabel("PageRank (actor–actor, weighted by meetings)")
        ax.set_title("Most central actors")
        present = sorted({row["type"] for row in top})
        handles = [
            plt.Rectangle((0, 0), 1, 1, color=TYPE_COLOURS.get(t, TYPE_COLOURS["Actor"])) for t in present
        ]
        ax.legend(handles, present, loc="lower right", fontsize="small")
        fig.tight_layout()
        files["top_actors.png"] = _png(fig, plt)
    return files


def _png(fig, plt) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the Markdown report ------------------------------------------------------------------------------


def _md(text) -> str:
    """A table cell: no line breaks, no pipes, no raw HTML."""
    value = " ".join(str(text).split())
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def _table(headers: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in rows]
    return lines


_TITLES = {
    "person": "Persons (person–person)",
    "actor": "Actors (actor–actor)",
    "state": "States (state–state)",
}


def _n(count: int, word: str, plural: str | None = None) -> str:
    """``3 states``, ``1 state``."""
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def render_report(result: dict, charts: list[str] | tuple = ()) -> str:
    """The readable summary of an analysis, in Markdown."""
    params, summary = result["parameters"], result["summary"]
    scope = []
    if params["date_from"] or params["date_to"]:
        scope.append(f"period {params['date_from'] or '…'} to {params['date_to'] or '…'}")
    if params["topic"]:
        scope.append(f"topic `{_md(params['topic'])}`")
    lines = [
        "# Meeting network analysis",
        "",
        f"Scope: {', '.join(scope) if scope else 'all meetings'}. "
        f"{_n(summary['meetings'], 'meeting')} ({summary['undated']} undated, "
        f"{summary['dated_to_day']} dated to the day) between {_n(summary['participants'], 'participant')}: "
        f"{_n(summary['persons'], 'person')}, {_n(summary['states'], 'state')}, "
        f"{_n(summary['organizations'], 'organisation')}; {_n(summary['topics'], 'topic')}.",
        "",
        "Centralities: degree = distinct partners, weighted degree = meetings summed over partners, "
        "betweenness in hops (normalised), PageRank weighted by meetings. "
        f"Communities: Louvain, seed {params['seed']}. A meeting of several participants links every pair.",
        "",
    ]
    if "top_actors.png" in charts:
        lines += ["![Most central actors](top_actors.png)", ""]
    for name, section in result["projections"].items():
        lines += [
            f"## {_TITLES.get(name, name)}",
            "",
            f"{_n(section['nodes'], 'node')}, {_n(section['edges'], 'edge')}, "
            f"{_n(section['components'], 'connected component')}, "
            f"density {section['density']}, {_n(len(section['communities']), 'community', 'communities')} "
            f"(modularity {section['modularity']}); betweenness {section['betweenness']}.",
            "",
            "### Most central",
            "",
        ]
        lines += _table(
            ["#", "name", "type", "degree", "weighted degree", "betweenness", "PageRank", "community"],
            [
                [i, r["label"], r["type"], r["degree"], r["weighted_degree"], r["betweenness"], r["pagerank"],
                 r["community"]]
                for i, r in enumerate(section["centrality"][:REPORT_TOP], start=1)
            ],
        )  # fmt: skip
        lines += ["", "### Most active dyads", ""]
        lines += _table(
            ["pair", "meetings", "first", "last", "topics"],
            [
                [f"{d['source_label']} – {d['target_label']}", d["weight"], d["first_date"] or "—",
                 d["last_date"] or "—", ", ".join(d["topics"])]
                for d in section["dyads"][:REPORT_TOP]
            ],
        )  # fmt: skip
        lines += ["", "### Communities", ""]
        lines += _table(
            ["community", "size", "members"],
            [
                [g["community"], g["size"], ", ".join(g["labels"][:12]) + (" …" if g["size"] > 12 else "")]
                for g in section["communities"][:REPORT_TOP]
            ],
        )
        lines += ["", "### Brokers between communities", ""]
        if section["brokers"]:
            lines += _table(
                ["name", "community", "partners in communities", "participation", "betweenness"],
                [
                    [b["label"], b["community"], ", ".join(map(str, b["bridged_communities"])),
                     b["participation"], b["betweenness"]]
                    for b in section["brokers"][:REPORT_TOP]
                ],
            )  # fmt: skip
        else:
            lines.append("None: no node has partners outside its own community.")
        lines.append("")
    lines += ["## Topics", ""]
    lines += _table(
        ["topic", "label", "meetings"], [[t["topic"], t["label"], t["meetings"]] for t in result["topics"]]
    )
    lines += ["", "### Topics per actor (most active actors)", ""]
    per_actor: dict[str, list[dict]] = {}
    for row in result["topics_per_actor"]:
        per_actor.setdefault(row["actor"], []).append(row)
    ranked = [r for r in result["projections"]["actor"]["centrality"] if r["node"] in per_actor]
    lines += _table(
        ["actor", "topics (meetings)"],
        [
            [r["label"], ", ".join(f"{t['topic']} ({t['meetings']})" for t in per_actor[r["node"]])]
            for r in ranked[:REPORT_TOP]
        ],
    )
    per_month = result["meetings_per_month"]
    lines += ["", "## Meetings per month", ""]
    if "meetings_per_month.png" in charts:
        lines += ["![Meetings per month](meetings_per_month.png)", ""]
    lines += _table(["month", "meetings"], [[m["month"], m["meetings"]] for m in per_month["months"]])
    extra = [f"{y['meetings']} known only to the year {y['year']}" for y in per_month["year_only"]]
    if per_month["undated"]:
        extra.append(f"{per_month['undated']} undated")
    if extra:
        lines += ["", "Not in the table: " + "; ".join(extra) + "."]
    lines += [
        "",
        "Files: `analysis.json` (everything), `centrality_<projection>.csv`, `communities.csv`, "
        "`brokers.csv`, `dyads.csv`, `topics_per_actor.csv`, `meetings_per_month.csv`.",
        "",
    ]
    return "\n".join(lines)
