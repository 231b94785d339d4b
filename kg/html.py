"""The interactive network page: one self-contained HTML file drawn by vis-network through pyvis.

:func:`write_graph_html` writes the actor–actor projection of a meeting graph (or any NetworkX graph shaped
like the projections of :mod:`kg.projections`) as a single HTML file that needs nothing else: the
vis-network script and stylesheet bundled in the pyvis wheel are inlined, there is no CDN or Bootstrap
link, and a Content-Security-Policy (``default-src 'none'``) forbids the page any request at all.

What the page shows:

* nodes coloured by type (Person, State, Organization; Topic and untyped Actor too), sized by weighted
  PageRank, with a legend whose check boxes filter by type;
* edges as wide as the log of their meeting count, with a tooltip listing each meeting's date, topics and
  evidence sentence;
* filters by topic and period (inclusive ISO bounds compared at the coarser precision, as in
  :func:`kg.projections.in_period`; an undated meeting is hidden whenever a period is set).

Article text never becomes markup: all data is embedded as JSON escaped for a ``<script>`` element
(``<``, ``>``, ``&`` and ``'`` as ``\\u`` escapes), node labels are drawn on the canvas, and tooltips are DOM
elements whose text is set with ``textContent``.

Large graphs: positions are always computed here (:func:`layout_positions`): a seeded spring layout for
up to :data:`SPRING_LIMIT` nodes, above that Louvain communities, laid out one by one and packed in rows;
physics is switched off above :data:`PHYSICS_LIMIT` nodes. Nodes and edges are given to pyvis as lists
(``Network.add_edge`` is quadratic). The page is rendered by ``Network.generate_html`` with the template
``kg/static/vis/graph.html.j2``. The output is deterministic.

This is the only module that imports pyvis.
"""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pyvis
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pyvis.network import Network

from kg.analysis import TYPE_COLOURS, pagerank
from kg.serialize import write_atomic

PHYSICS_LIMIT = 300
SPRING_LIMIT = 300
ARRANGE_LIMIT = 400  # communities placed by a layout of the community graph; beyond, packed in rows
MAX_TOOLTIP_MEETINGS = 6
MAX_QUOTE_CHARS = 600
SEED = 42
TEMPLATE_DIR = Path(__file__).parent / "static" / "vis"
TEMPLATE = "graph.html.j2"
VIS_DIR = Path(pyvis.__file__).parent / "templates" / "lib" / "vis-9.1.2"
TYPE_ORDER = ("Person", "State", "Organization", "Topic", "Actor")
_NODE_SPACING = 22.0


# --- layout -------------------------------------------------------------------------------------------


def _spring(graph: nx.Graph, seed: int) -> dict:
    n = graph.number_of_nodes()
    if n == 1:
        return {next(iter(graph)): (0.0, 0.0)}
    pos = nx.spring_layout(graph, seed=seed, iterations=60, weight=None)
    radius = _NODE_SPACING * math.sqrt(n)
    return {node: (float(x) * radius, float(y) * radius) for node, (x, y) in pos.items()}


def _sunflower(nodes: list) -> dict:
    """Nodes on a Vogel spiral, first (most connected) in the centre: O(n), no overlaps."""
    golden = math.pi * (3.0 - math.sqrt(5.0))
    return {
        node: (radius * math.cos(i * golden), radius * math.sin(i * golden))
        for i, node in enumerate(nodes)
        for radius in (_NODE_SPACING * math.sqrt(i),)
    }


def _radius(pos: dict) -> float:
    return max((math.hypot(x, y) for x, y in pos.values()), default=0.0) + _NODE_SPACING


def _pack(blocks: list[dict]) -> dict:
    """Place laid-out blocks (each centred on 0,0) in rows, largest first, and centre the whole."""
    sized = sorted(((_radius(b), i, b) for i, b in enumerate(blocks)), key=lambda t: (-t[0], t[1]))
    gap = _NODE_SPACING
    width = math.sqrt(sum((2 * r + gap) ** 2 for r, _, _ in sized)) * 1.15
    result: dict = {}
    x = y = row_height = 0.0
    for r, _, block in sized:
        if x > 0 and x + 2 * r > width:
            x, y, row_height = 0.0, y + row_height + gap, 0.0
        cx, cy = x + r, y + r
        for node, (px, py) in block.items():
            result[node] = (px + cx, py + cy)
        x += 2 * r + gap
        row_height = max(row_height, 2 * r)
    if result:
        mx = (min(p[0] for p in result.values()) + max(p[0] for p in result.values())) / 2
        my = (min(p[1] for p in result.values()) + max(p[1] for p in result.values())) / 2
        result = {node: (px - mx, py - my) for node, (px, py) in result.items()}
    return result


def _separate(centres: np.ndarray, radii: np.ndarray, gap: float, rounds: int = 400) -> np.ndarray:
    """Push overlapping discs apart (each pair by half its overlap) until none overlap."""
    need = radii[:, None] + radii[None, :] + gap
    np.fill_diagonal(need, 0.0)
    for _ in range(rounds):
        delta = centres[:, None, :] - centres[None, :, :]
        dist = np.sqrt((delta**2).sum(axis=2))
        overlap = np.where(dist < need, need - dist, 0.0)
        np.fill_diagonal(overlap, 0.0)
        if not overlap.any():
            break
        safe = np.where(dist > 1e-9, dist, 1.0)
        # coincident centres: a fixed, index-dependent direction instead of a random one
        direction = np.where(dist[:, :, None] > 1e-9, delta / safe[:, :, None], 0.0)
        i, j = np.nonzero(dist <= 1e-9)
        keep = i != j
        angle = (i[keep] - j[keep]) * 2.399963
        direction[i[keep], j[keep]] = np.stack([np.cos(angle), np.sin(angle)], axis=1)
        centres = centres + 0.5 * (direction * overlap[:, :, None]).sum(axis=1)
    return centres


def _arrange(graph: nx.Graph, groups: list[list], blocks: list[dict], seed: int) -> dict:
    """Place community blocks where the meetings between communities pull them, without overlaps.

    The communities form a quotient graph (edge weight = meetings between them) laid out with a seeded
    spring layout; the blocks are then scaled to that layout and pushed apart until no two overlap.
    """
    k = len(blocks)
    if k > ARRANGE_LIMIT:
        return _pack(blocks)
    member = {node: i for i, group in enumerate(groups) for node in group}
    quotient = nx.Graph()
    quotient.add_nodes_from(range(k))
    for u, v, w in graph.edges(data="weight", default=1):
        a, b = member[u], member[v]
        if a != b:
            quotient.add_edge(a, b, weight=quotient.get_edge_data(a, b, {"weight": 0})["weight"] + (w or 1))
    radii = np.array([_radius(block) for block in blocks])
    pos = nx.spring_layout(quotient, seed=seed, weight="weight", iterations=100)
    spread = math.sqrt(float((radii**2).sum())) * 1.6
    centres = np.array([pos[i] for i in range(k)], dtype=float) * spread
    centres = _separate(centres, radii, _NODE_SPACING)
    centres -= (centres.min(axis=0) + centres.max(axis=0)) / 2
    result = {}
    for (cx, cy), block in zip(centres.tolist(), blocks, strict=True):
        for node, (px, py) in block.items():
            result[node] = (px + cx, py + cy)
    return result


def _subgraph(graph: nx.Graph, nodes: list) -> nx.Graph:
    """The induced subgraph with nodes in the given order (``Graph.subgraph`` may follow set order)."""
    keep = set(nodes)
    sub = nx.Graph()
    sub.add_nodes_from(nodes)
    sub.add_edges_from((u, v, d) for u in nodes for v, d in graph[u].items() if v in keep)
    return sub


def _community_layout(graph: nx.Graph, seed: int, depth: int = 0) -> dict:
    n = graph.number_of_nodes()
    if n <= SPRING_LIMIT:
        return _spring(graph, seed)
    by_degree = sorted(graph, key=lambda v: (-graph.degree(v, weight="weight"), str(v)))
    if depth >= 2 or graph.number_of_edges() == 0:
        return _sunflower(by_degree)
    groups = [sorted(g, key=str) for g in nx.community.louvain_communities(graph, weight="weight", seed=seed)]
    singletons = sorted((g[0] for g in groups if len(g) == 1), key=str)
    groups = sorted((g for g in groups if len(g) > 1), key=lambda g: (-len(g), str(g[0])))
    if len(groups) <= 1 and not singletons:
        return _sunflower(by_degree)
    blocks = [_community_layout(_subgraph(graph, g), seed, depth + 1) for g in groups]
    if singletons:
        groups.append(singletons)
        blocks.append(_sunflower(singletons))
    return _arrange(graph, groups, blocks, seed)


def layout_positions(graph: nx.Graph, seed: int = SEED) -> dict:
    """Node positions in pixels: spring layout when small, packed Louvain communities when large."""
    if graph.number_of_nodes() == 0:
        return {}
    if graph.number_of_nodes() <= SPRING_LIMIT:
        return _spring(graph, seed)
    return _community_layout(graph, seed)


# --- data for the page --------------------------------------------------------------------------------


def _clip(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _meeting_records(data: dict) -> list:
    """``[[date, [topics], [quotes]], ...]`` per meeting of an edge (what filters and tooltips use)."""
    meetings = list(data.get("meetings", []))
    count = max(len(meetings), 1) if meetings else int(data.get("weight", 1))
    dates = list(data.get("dates", [])) + [""] * count
    topics = list(data.get("meeting_topics", [])) or [list(data.get("topics", []))] * count
    quotes = list(data.get("meeting_quotes", [])) or [list(data.get("quotes", []))] * count
    topics += [[]] * count
    quotes += [[]] * count
    return [
        [str(dates[i] or ""), sorted(map(str, topics[i])), [_clip(q) for q in quotes[i]]]
        for i in range(count)
    ]


def _page_data(graph: nx.Graph, seed: int) -> tuple[list[dict], list[dict], dict]:
    ranks = pagerank(graph)
    top = max(ranks.values(), default=1.0) or 1.0
    pos = layout_positions(graph, seed)
    nodes = []
    type_counts: dict[str, int] = {}
    for node, data in graph.nodes(data=True):
        kind = str(data.get("type") or "Actor")
        type_counts[kind] = type_counts.get(kind, 0) + 1
        colour = TYPE_COLOURS.get(kind, TYPE_COLOURS["Actor"])
        x, y = pos[node]
        nodes.append(
            {
                "id": str(node),
                "label": _clip(data.get("label", node), 80),
                "t": kind,
                "aff": str(data.get("affiliation", "") or ""),
                "n": int(data.get("meetings", 0) or 0),
                "color": {"background": colour, "border": "#333333",
                          "highlight": {"background": colour, "border": "#000000"}},
                "size": round(6.0 + 28.0 * math.sqrt(ranks.get(node, 0.0) / top), 2),
                "x": round(x, 1),
                "y": round(y, 1),
            }
        )  # fmt: skip
    edges = []
    topic_counts: dict[str, int] = {}
    known_dates: list[str] = []
    for i, (u, v, data) in enumerate(graph.edges(data=True)):
        records = _meeting_records(data)
        for date, topics, _ in records:
            if date:
                known_dates.append(date)
            for t in topics:
                topic_counts[t] = topic_counts.get(t, 0) + 1
        weight = int(data.get("weight", len(records)) or 1)
        edges.append(
            {"id": i, "from": str(u), "to": str(v), "w": weight,
             "width": round(1.0 + 1.5 * math.log2(weight), 2), "m": records}
        )  # fmt: skip
    meta = {
        "types": [
            {"type": t, "colour": TYPE_COLOURS.get(t, TYPE_COLOURS["Actor"]), "count": type_counts[t]}
            for t in sorted(type_counts, key=lambda t: (TYPE_ORDER.index(t) if t in TYPE_ORDER else 99, t))
        ],
        "topics": [{"topic": t, "count": topic_counts[t]} for t in sorted(topic_counts)],
        "first_date": min(known_dates) if known_dates else "",
        "last_date": max(known_dates) if known_dates else "",
        "nodes": len(nodes),
        "edges": len(edges),
        "physics": len(nodes) <= PHYSICS_LIMIT,
        "max_tip_meetings": MAX_TOOLTIP_MEETINGS,
    }
    return nodes, edges, meta


def _options(physics: bool, seed: int) -> dict:
    return {
        "autoResize": True,
        "layout": {"randomSeed": seed, "improvedLayout": False},
        "nodes": {
            "shape": "dot",
            "borderWidth": 1,
            "font": {"size": 14, "face": "DejaVu Sans, Arial, sans-serif", "strokeWidth": 3,
                     "strokeColor": "#ffffff"},
            "scaling": {"label": {"enabled": False, "drawThreshold": 7}},
        },  # fmt: skip
        "edges": {
            "color": {"color": "#8c8c8c", "highlight": "#333333", "hover": "#333333", "opacity": 0.7},
            "smooth": {"enabled": physics, "type": "continuous"},
            "selectionWidth": 2,
        },
        "interaction": {"hover": True, "tooltipDelay": 150, "hideEdgesOnDrag": not physics,
                        "hideEdgesOnZoom": not physics, "navigationButtons": False},
        "physics": {
            "enabled": physics,
            "solver": "forceAtlas2Based",
            "forceAtlas2Based": {"gravitationalConstant": -60, "springLength": 120, "avoidOverlap": 0.4},
            "stabilization": {"enabled": physics, "iterations": 250, "fit": True},
        },
    }  # fmt: skip


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        keep_trailing_newline=True,
    )
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False, "separators": (",", ":")}
    return env


def _inline_asset(path: Path) -> Markup:
    """A bundled script or stylesheet, safe to place inside ``<script>``/``<style>``."""
    text = path.read_text(encoding="utf-8")
    for closing in ("</script", "</style", "</SCRIPT", "</STYLE"):
        text = text.replace(closing, "<\\/" + closing[2:])
    return Markup(text)


def _as_network(graph, projection: str, date_from, date_to, topic) -> nx.Graph:
    if isinstance(graph, nx.Graph):
        return graph
    from kg import projections as proj

    return proj.PROJECTIONS[projection](graph, date_from, date_to, topic)


def graph_html(
    graph,
    title: str | None = None,
    *,
    projection: str = "actor",
    date_from: str | None = None,
    date_to: str | None = None,
    topic: str | None = None,
    seed: int = SEED,
) -> str:
    """The HTML page for ``graph``: a NetworkX graph, or an rdflib Graph / ``MeetingData`` to project."""
    network_graph = _as_network(graph, projection, date_from, date_to, topic)
    nodes, edges, meta = _page_data(network_graph, seed)
    kind = network_graph.graph.get("projection") or projection
    heading = title or f"Diplomatic meetings — {kind} network"
    meta["title"] = heading
    meta["projection"] = str(kind)

    net = Network(height="100%", width="100%", heading=heading, cdn_resources="in_line")
    net.nodes = nodes  # assigned directly: Network.add_node/add_edge are slow on large graphs
    net.edges = edges
    net.options = _options(meta["physics"], seed)
    env = _environment()
    env.globals.update(
        dg=meta,
        vis_options=net.options,
        vis_js=_inline_asset(VIS_DIR / "vis-network.min.js"),
        vis_css=_inline_asset(VIS_DIR / "vis-network.css"),
    )
    net.templateEnv = env
    net.path = TEMPLATE
    return net.generate_html(name="graph.html")


def write_graph_html(graph, path: Path, title: str | None = None, **kwargs) -> Path:
    """Write ``graph`` (see :func:`graph_html`) as one self-contained HTML file at ``path``."""
    path = Path(path)
    write_atomic(path, graph_html(graph, title, **kwargs).encode("utf-8"))
    return path
