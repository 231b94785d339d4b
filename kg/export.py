"""Exports other systems can trust: the graph as Turtle, N-Triples, N-Quads, TriG and JSON-LD, the meetings as
CSV, and the meeting network as GraphML.

Every writer is deterministic (the same graph gives the same bytes: sorted output, blank nodes relabelled
canonically) and every file is replaced atomically (:func:`kg.serialize.write_atomic`).

Named graphs (N-Quads, TriG) follow the provenance of each statement (see :func:`partition`):

- ``…/graph/article/{id}``: what one article says: the article itself, its meetings and their evidence,
  the tenures it shows and the ``dg:mentionedIn`` links to it;
- ``…/graph/shared``: entities shared by articles (persons' names and affiliations, states, organisations,
  cities, posts);
- ``…/graph/ontology``: the ontology and the topic and role schemes;
- ``…/graph/inferred``: the facts :func:`kg.reasoning.inferred_graph` derives (inverse participation, the
  states and organisations a meeting involves through its participants, super-properties and super-classes);
- the default graph describes the named graphs (label, and the article each article graph comes from).
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import networkx as nx
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.namespace import DCTERMS, ORG, PROV, RDF, RDFS, SKOS, XSD

from kg.ontology import jsonld_context
from kg.serialize import turtle_bytes, write_atomic
from kg.vocab import BASE, DG, ID, ONTOLOGY_IRI

GRAPH_BASE = BASE + "graph/"
SHARED_GRAPH = URIRef(GRAPH_BASE + "shared")
ONTOLOGY_GRAPH = URIRef(GRAPH_BASE + "ontology")
INFERRED_GRAPH = URIRef(GRAPH_BASE + "inferred")

FORMATS: dict[str, str] = {
    "turtle": "graph.ttl",
    "ntriples": "graph.nt",
    "nquads": "graph.nq",
    "trig": "graph.trig",
    "jsonld": "graph.jsonld",
    "csv": "meetings.csv",
    "graphml": "meetings.graphml",
}
QUAD_FORMATS = frozenset({"nquads", "trig"})
CSV_COLUMNS = (
    "iri",
    "type",
    "articles",
    "date",
    "mode",
    "place",
    "participants",
    "participant_iris",
    "topics",
)


class ExportError(ValueError):
    """An unknown format or an unusable graph."""


# --- helpers ------------------------------------------------------------------------------------------------


def canonical(graph: Graph) -> Graph:
    """``graph`` with its blank nodes relabelled deterministically (only the triples holding blank nodes are
    canonicalised, so a large graph with a small ontology costs little)."""
    ground, with_bnodes = Graph(), Graph()
    for triple in graph:
        (with_bnodes if any(isinstance(t, BNode) for t in triple) else ground).add(triple)
    if len(with_bnodes):
        for triple in to_canonical_graph(with_bnodes):
            ground.add(triple)
    return ground


def _nt_lines(triples: Iterable[tuple]) -> list[str]:
    """N-Triples lines (no newline) of ``triples``, sorted."""
    graph = Graph()
    for triple in triples:
        graph.add(triple)
    text = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    return sorted(line for line in text.splitlines() if line.strip())


def _label(graph: Graph, node) -> str:
    """A readable label: rdfs:label (English first), then skos:prefLabel, then the IRI's last segment."""
    for prop in (RDFS.label, SKOS.prefLabel):
        labels = list(graph.objects(node, prop))
        if labels:
            labels.sort(key=lambda lit: (getattr(lit, "language", None) not in ("en", None), str(lit)))
            return str(labels[0])
    return str(node).rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _kind(iri) -> str:
    """The kind segment of a data IRI (``meeting`` for ``dgid:meeting/…``), or ''."""
    text = str(iri)
    if not text.startswith(str(ID)):
        return ""
    return text[len(str(ID)) :].split("/", 1)[0]


def article_graph_iri(article: URIRef) -> URIRef:
    """The named graph of one article: ``…/graph/article/{local name of the article IRI}``."""
    return URIRef(GRAPH_BASE + "article/" + str(article).rsplit("/", 1)[-1])


# --- partition into named graphs ----------------------------------------------------------------------------


def _tenure_articles(graph: Graph, tenure) -> set:
    """The articles a tenure was observed in. Tenures carry no link to their article in the data model, so:
    its own prov:wasDerivedFrom when present; else the only article that mentions the member; else the
    articles mentioning the member whose publication date is one of the tenure's dg:observedOn dates."""
    own = set(graph.objects(tenure, PROV.wasDerivedFrom))
    if own:
        return own
    mentions = set()
    for member in graph.objects(tenure, ORG.member):
        mentions |= set(graph.objects(member, DG.mentionedIn))
    if len(mentions) <= 1:
        return mentions
    observed = {str(date) for date in graph.objects(tenure, DG.observedOn)}
    return {
        article for article in mentions if {str(d) for d in graph.objects(article, DCTERMS.issued)} & observed
    }


def partition(graph: Graph) -> dict[URIRef, Graph]:
    """Split ``graph`` into named graphs by provenance (see the module docstring).

    Each triple goes to exactly the graphs of the articles it comes from (a triple several articles support
    goes to each of them), to the shared graph, or to the ontology graph.
    """
    graphs: dict[URIRef, Graph] = defaultdict(Graph)
    articles_of: dict = {}

    def sources(subject) -> set:
        if subject in articles_of:
            return articles_of[subject]
        kind = _kind(subject)
        if kind == "article":
            found = {subject}
        elif kind == "meeting":
            found = set(graph.objects(subject, PROV.wasDerivedFrom))
        elif kind == "evidence":
            found = set(graph.objects(subject, DG.inArticle)) | set(
                graph.objects(subject, PROV.wasDerivedFrom)
            )
        elif kind == "tenure":
            found = _tenure_articles(graph, subject)
        else:
            found = set()
        articles_of[subject] = {a for a in found if isinstance(a, URIRef)}
        return articles_of[subject]

    # blank nodes belong with the subject that refers to them (in practice: ontology axioms)
    owner: dict[BNode, object] = {}
    for s, _p, o in graph:
        if isinstance(o, BNode) and not isinstance(s, BNode):
            owner.setdefault(o, s)

    def root(node):
        seen = set()
        while isinstance(node, BNode) and node not in seen:
            seen.add(node)
            parents = [s for s, _p in graph.subject_predicates(node)]
            node = owner.get(node) or (min(parents, key=str) if parents else node)
        return node

    for s, p, o in graph:
        subject = root(s)
        if isinstance(subject, BNode) or not str(subject).startswith(str(ID)):
            targets = {ONTOLOGY_GRAPH}
        elif p == DG.mentionedIn and isinstance(o, URIRef):
            targets = {article_graph_iri(o)}
        elif p == DG.tenure and sources(o):
            targets = {article_graph_iri(a) for a in sources(o)}
        else:
            found = sources(subject)
            targets = {article_graph_iri(a) for a in found} if found else {SHARED_GRAPH}
        for target in targets:
            graphs[target].add((s, p, o))
    return dict(graphs)


def dataset(graph: Graph, inferred: Graph | None = None) -> dict[URIRef | None, Graph]:
    """The named graphs of :func:`partition`, the inferred graph, and a default graph (key None) describing
    them."""
    graphs: dict[URIRef | None, Graph] = dict(partition(canonical(graph)))
    if inferred is not None and len(inferred):
        graphs[INFERRED_GRAPH] = inferred
    meta = Graph()
    for name in graphs:
        if name == SHARED_GRAPH:
            meta.add((name, RDFS.label, Literal("entities shared by articles", lang="en")))
        elif name == ONTOLOGY_GRAPH:
            meta.add((name, RDFS.label, Literal("ontology, topic scheme and role scheme", lang="en")))
            meta.add((name, PROV.wasDerivedFrom, ONTOLOGY_IRI))
        elif name == INFERRED_GRAPH:
            meta.add((name, RDFS.label, Literal("facts inferred by the rules of kg/data/rules", lang="en")))
        elif name is not None:
            article = ID["article/" + str(name).rsplit("/", 1)[-1]]
            meta.add(
                (
                    name,
                    RDFS.label,
                    Literal(f"statements read from article {_label(graph, article)}", lang="en"),
                )
            )
            meta.add((name, PROV.wasDerivedFrom, article))
    graphs[None] = meta
    return graphs


def _graph_order(name: URIRef | None) -> tuple:
    rank = {None: 0, ONTOLOGY_GRAPH: 1, SHARED_GRAPH: 2, INFERRED_GRAPH: 4}
    return (rank.get(name, 3), str(name or ""))


# --- RDF writers --------------------------------------------------------------------------------------------


def turtle_export(graph: Graph, inferred: Graph | None = None) -> bytes:
    """The whole graph (plus ``inferred``, when given) as canonical Turtle."""
    merged = Graph()
    for triple in graph:
        merged.add(triple)
    for triple in inferred or ():
        merged.add(triple)
    return turtle_bytes(merged)


def ntriples_export(graph: Graph, inferred: Graph | None = None) -> bytes:
    """N-Triples, one sorted line per triple."""
    merged = Graph()
    for triple in canonical(graph):
        merged.add(triple)
    for triple in inferred or ():
        merged.add(triple)
    return "".join(line + "\n" for line in _nt_lines(merged)).encode("utf-8")


def nquads_export(graph: Graph, inferred: Graph | None = None) -> bytes:
    """N-Quads: one named graph per article, plus the shared, ontology and inferred graphs; sorted lines,
    grouped by graph (default graph first)."""
    lines = []
    for name, part in sorted(dataset(graph, inferred).items(), key=lambda item: _graph_order(item[0])):
        label = f" <{name}>" if name is not None else ""
        for line in _nt_lines(part):
            assert line.endswith(" .")
            lines.append(line[:-2] + label + " .\n")
    return "".join(lines).encode("utf-8")


def trig_export(graph: Graph, inferred: Graph | None = None) -> bytes:
    """TriG with the named graphs of :func:`nquads_export`, each block as canonical long-form Turtle."""
    prefixes: set[str] = set()
    blocks = []
    for name, part in sorted(dataset(graph, inferred).items(), key=lambda item: _graph_order(item[0])):
        body_lines = []
        for line in turtle_bytes(part).decode("utf-8").splitlines():
            if line.startswith("PREFIX "):
                prefixes.add(line)
            else:
                body_lines.append(line)
        body = "\n".join(body_lines).strip("\n")
        if name is None:
            blocks.append(body + "\n")
        else:
            # not indented: a multi-line string literal must keep its lines as they are
            blocks.append(f"<{name}> {{\n{body}\n}}\n")
    return ("\n".join(sorted(prefixes)) + "\n\n" + "\n".join(blocks)).encode("utf-8")


# --- JSON-LD ------------------------------------------------------------------------------------------------


class _Compactor:
    """Compact IRIs and values against the published context (``ontology/context.jsonld``)."""

    def __init__(self, context: dict):
        self.context = context
        self.prefixes = sorted(
            ((iri, name) for name, iri in context.items() if isinstance(iri, str) and ":" not in name),
            key=lambda item: -len(item[0]),
        )
        self.id_terms = {
            self.expand(name)
            for name, definition in context.items()
            if isinstance(definition, dict) and definition.get("@type") == "@id" and ":" in name
        }

    def expand(self, curie: str) -> str:
        prefix, _, rest = curie.partition(":")
        value = self.context.get(prefix)
        return value + rest if isinstance(value, str) else curie

    def iri(self, node) -> str:
        if isinstance(node, BNode):
            return f"_:{node}"
        text = str(node)
        for namespace, name in self.prefixes:
            rest = text[len(namespace) :]
            if text.startswith(namespace) and rest and not rest.startswith("//"):
                return f"{name}:{rest}"
        return text

    def key(self, predicate, value) -> str:
        compact = self.iri(predicate)
        if str(predicate) in self.id_terms and isinstance(value, Literal):
            return str(predicate)  # the coerced term would turn the literal into an IRI
        return compact

    def value(self, predicate, node):
        if isinstance(node, Literal):
            if node.language:
                return {"@language": node.language, "@value": str(node)}
            if node.datatype is None or node.datatype == XSD.string:
                return str(node)
            return {"@type": self.iri(node.datatype), "@value": str(node)}
        if str(predicate) in self.id_terms:
            return self.iri(node)
        return {"@id": self.iri(node)}


def _value_order(value) -> tuple:
    return (json.dumps(value, sort_keys=True, ensure_ascii=False),)


def jsonld_document(graph: Graph, inferred: Graph | None = None) -> dict:
    """The graph as one compact JSON-LD document: the published context inline, one node object per subject
    (sorted by ``@id``), properties and values sorted."""
    context = jsonld_context()
    compact = _Compactor(context)
    merged = Graph()
    for triple in canonical(graph):
        merged.add(triple)
    for triple in inferred or ():
        merged.add(triple)
    nodes: dict[str, dict] = {}
    for s, p, o in merged:
        node = nodes.setdefault(compact.iri(s), {"@id": compact.iri(s)})
        if p == RDF.type and not isinstance(o, Literal):
            node.setdefault("@type", []).append(compact.iri(o))
            continue
        node.setdefault(compact.key(p, o), []).append(compact.value(p, o))
    ordered = []
    for node_id in sorted(nodes):
        node = nodes[node_id]
        out = {}
        for key in sorted(node):
            values = node[key]
            if key == "@id":
                out[key] = values
                continue
            values = sorted(values, key=_value_order)
            out[key] = values[0] if len(values) == 1 else values
        ordered.append(out)
    return {"@context": context, "@graph": ordered}


def jsonld_export(graph: Graph, inferred: Graph | None = None) -> bytes:
    text = json.dumps(jsonld_document(graph, inferred), ensure_ascii=False, indent=1, sort_keys=True)
    return (text + "\n").encode("utf-8")


# --- meetings as CSV and GraphML ----------------------------------------------------------------------------


def _meetings(graph: Graph) -> list[URIRef]:
    found = set(graph.subjects(RDF.type, DG.Meeting)) | set(graph.subjects(RDF.type, DG.PlannedMeeting))
    return sorted((m for m in found if isinstance(m, URIRef)), key=str)


def _iso(value) -> str:
    return str(value) if value is not None else ""


def meeting_rows(graph: Graph) -> list[dict[str, str]]:
    """One row per meeting (held or planned), dated meetings first in date order, then by IRI."""
    rows = []
    for meeting in _meetings(graph):
        participants = sorted(
            graph.objects(meeting, DG.participant), key=lambda a: (_label(graph, a), str(a))
        )
        place = graph.value(meeting, DG.place)
        mode = graph.value(meeting, DG.mode)
        articles = sorted(
            str(graph.value(a, DCTERMS.identifier) or str(a).rsplit("/", 1)[-1])
            for a in graph.objects(meeting, PROV.wasDerivedFrom)
        )
        topics = sorted(
            str(graph.value(t, SKOS.notation) or str(t).rsplit("/", 1)[-1])
            for t in graph.objects(meeting, DG.topic)
        )
        kind = "PlannedMeeting" if (meeting, RDF.type, DG.PlannedMeeting) in graph else "Meeting"
        rows.append(
            {
                "iri": str(meeting),
                "type": kind,
                "articles": ";".join(articles),
                "date": _iso(graph.value(meeting, DG.date)),
                "mode": str(mode).rsplit("#", 1)[-1] if mode is not None else "",
                "place": _label(graph, place) if place is not None else "",
                "participants": ";".join(_label(graph, a) for a in participants),
                "participant_iris": ";".join(str(a) for a in participants),
                "topics": ";".join(topics),
            }
        )
    rows.sort(key=lambda row: (row["date"] == "", row["date"], row["iri"]))
    return rows


def csv_export(graph: Graph, inferred: Graph | None = None) -> bytes:
    """The meetings as CSV: UTF-8, comma-separated, LF line ends, a header row, lists joined with ``;``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(meeting_rows(graph))
    return buffer.getvalue().encode("utf-8")


def _actor_kind(graph: Graph, actor) -> str:
    for cls in (DG.Person, DG.State, DG.Organization):
        if (actor, RDF.type, cls) in graph:
            return str(cls).rsplit("#", 1)[-1]
    return "Actor"


def meeting_network(graph: Graph) -> nx.Graph:
    """The bipartite meeting network: a node per meeting and per actor, an edge from each meeting to each
    participant. Every attribute is a string or an int, so GraphML tools (Gephi, yEd, Cytoscape) read it."""
    network = nx.Graph(name="diplograph meeting network")
    rows = {row["iri"]: row for row in meeting_rows(graph)}
    actors: dict[URIRef, int] = defaultdict(int)
    for meeting in _meetings(graph):
        for actor in graph.objects(meeting, DG.participant):
            actors[actor] += 1
    for meeting in _meetings(graph):
        row = rows[str(meeting)]
        network.add_node(
            str(meeting),
            kind=row["type"],
            label=_label(graph, meeting),
            date=row["date"],
            mode=row["mode"],
            place=row["place"],
            topics=row["topics"],
            articles=row["articles"],
            participants=len(list(graph.objects(meeting, DG.participant))),
        )
    for actor in sorted(actors, key=str):
        network.add_node(
            str(actor),
            kind=_actor_kind(graph, actor),
            label=_label(graph, actor),
            date="",
            mode="",
            place="",
            topics="",
            articles="",
            participants=0,
            meetings=actors[actor],
        )
    for meeting in _meetings(graph):
        for actor in sorted(graph.objects(meeting, DG.participant), key=str):
            network.add_edge(str(meeting), str(actor), relation="participant")
    return network


def graphml_export(graph: Graph, inferred: Graph | None = None) -> bytes:
    buffer = io.BytesIO()
    nx.write_graphml(meeting_network(graph), buffer, encoding="utf-8", prettyprint=True)
    return buffer.getvalue()


# --- entry points -------------------------------------------------------------------------------------------

WRITERS = {
    "turtle": turtle_export,
    "ntriples": ntriples_export,
    "nquads": nquads_export,
    "trig": trig_export,
    "jsonld": jsonld_export,
    "csv": csv_export,
    "graphml": graphml_export,
}


def export_bytes(graph: Graph, fmt: str, inferred: bool | None = None) -> bytes:
    """The bytes of ``graph`` in ``fmt``. ``inferred`` adds the facts of :func:`kg.reasoning.inferred_graph`:
    by default to N-Quads and TriG (in their own named graph) and not to the other formats."""
    if fmt not in WRITERS:
        raise ExportError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    if inferred is None:
        inferred = fmt in QUAD_FORMATS
    facts = None
    if inferred and fmt not in ("csv", "graphml"):
        from kg.reasoning import inferred_graph

        facts = inferred_graph(graph)
    return WRITERS[fmt](graph, facts)


def export(graph: Graph, fmt: str, out: str | Path, inferred: bool | None = None) -> Path:
    """Write ``graph`` as ``fmt`` to ``out`` atomically; returns the path written."""
    path = Path(out)
    write_atomic(path, export_bytes(graph, fmt, inferred))
    return path
