"""GraphML and GEXF export of the projections, for Gephi, yEd, Cytoscape or ``networkx.read_graphml``.

Both formats only take scalar attributes, so :func:`flatten` turns every attribute into a string, an
int or a float: lists of scalars are joined with ``"; "`` (meeting IRIs with spaces, since IRIs hold none),
lists of lists (one list per meeting) with ``" | "`` between meetings, and evidence quotes with a new line
between them; ``None`` becomes ``""``. Characters XML 1.0 forbids are dropped.

The files are deterministic: nodes and edges keep the projection's sorted order (attribute key ids follow the
order they are first met), and the GEXF ``meta`` carries no modification date.

>>> g = nx.Graph(projection="person")
>>> g.add_node("a", label="A", type="Person"); g.add_node("b", label="B <b>", type="Person")
>>> g.add_edge("a", "b", weight=2, dates=["2024-01", ""], meeting_topics=[["trade"], ["security", "energy"]])
>>> flat = flatten(g)
>>> flat.edges["a", "b"]["dates"], flat.edges["a", "b"]["meeting_topics"]
('2024-01; ', 'trade | security; energy')
>>> back = nx.read_graphml(io.BytesIO(graphml_bytes(g)))
>>> back.nodes["b"]["label"], back.edges["a", "b"]["weight"]
('B <b>', 2)
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import networkx as nx
from networkx.readwrite.gexf import GEXFWriter

from kg.serialize import write_atomic

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

TYPE_RGB = {
    "Person": (76, 120, 168),
    "State": (228, 87, 86),
    "Organization": (84, 162, 75),
    "Topic": (245, 133, 24),
    "Actor": (157, 157, 157),
}


def _text(value) -> str:
    return _XML_INVALID.sub("", "" if value is None else str(value))


def _scalar(key: str, value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value) if not isinstance(value, set | frozenset) else sorted(value)
        if items and all(isinstance(i, list | tuple) for i in items):
            return " | ".join("; ".join(_text(x) for x in item) for item in items)
        if key == "meetings":
            return " ".join(_text(i) for i in items)
        if key == "quotes":
            return "\n".join(_text(i) for i in items)
        return "; ".join(_text(i) for i in items)
    return _text(value)


def flatten(graph: nx.Graph) -> nx.Graph:
    """A copy of ``graph`` whose graph, node and edge attributes are all strings, ints or floats."""
    flat = graph.__class__()
    flat.graph.update({k: _scalar(k, v) for k, v in graph.graph.items()})
    for node, data in graph.nodes(data=True):
        flat.add_node(_text(node), **{k: _scalar(k, v) for k, v in data.items()})
    for u, v, data in graph.edges(data=True):
        flat.add_edge(_text(u), _text(v), **{k: _scalar(k, v) for k, v in data.items()})
    return flat


def graphml_bytes(graph: nx.Graph) -> bytes:
    """The GraphML document of a projection."""
    buffer = io.BytesIO()
    nx.write_graphml(flatten(graph), buffer, encoding="utf-8")
    return buffer.getvalue()


def gexf_bytes(graph: nx.Graph) -> bytes:
    """The GEXF 1.2 document of a projection, with node colours by type and sizes by meetings."""
    flat = flatten(graph)
    for _node, data in flat.nodes(data=True):
        r, g, b = TYPE_RGB.get(str(data.get("type", "")), TYPE_RGB["Actor"])
        meetings = data.get("meetings", 1)
        size = 5.0 + 2.0 * float(meetings if isinstance(meetings, int | float) else 1) ** 0.5
        data["viz"] = {"color": {"r": r, "g": g, "b": b, "a": 1.0}, "size": round(size, 3)}
    writer = GEXFWriter(encoding="utf-8", prettyprint=True, version="1.2draft")
    meta = writer.xml.find("meta")
    meta.attrib.pop("lastmodifieddate", None)
    meta.find("creator").text = "diplograph"
    writer.add_graph(flat)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def write_graphml(graph: nx.Graph, path: Path) -> None:
    write_atomic(Path(path), graphml_bytes(graph))


def write_gexf(graph: nx.Graph, path: Path) -> None:
    write_atomic(Path(path), gexf_bytes(graph))


def export_projections(
    source,
    out_dir: Path,
    date_from: str | None = None,
    date_to: str | None = None,
    topic: str | None = None,
    formats: tuple[str, ...] = ("graphml", "gexf"),
) -> list[Path]:
    """Write every projection of ``source`` (rdflib Graph or MeetingData) as ``<projection>.<format>``."""
    from kg import projections as proj

    data = source if isinstance(source, proj.MeetingData) else proj.load_meetings(source)
    writers = {"graphml": graphml_bytes, "gexf": gexf_bytes}
    paths = []
    for name, build in proj.PROJECTIONS.items():
        graph = build(data, date_from, date_to, topic)
        for fmt in formats:
            path = Path(out_dir) / f"{name}.{fmt}"
            write_atomic(path, writers[fmt](graph))
            paths.append(path)
    return paths
