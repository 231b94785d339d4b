"""Project the meeting graph (RDF) onto NetworkX graphs for network analysis.

Four projections, all undirected, each sliceable by period and topic:

* :func:`person_graph` — person–person: two persons are linked when they took part in the same meeting;
* :func:`actor_graph` — actor–actor: the same over every participant (persons, states, organisations);
* :func:`state_graph` — state–state: a participant counts for its state (a state participant for itself, a
  person for each state in its ``dg:affiliation``; organisations count for none);
* :func:`actor_topic_graph` — bipartite actor–topic: an actor is linked to each topic of its meetings.

A meeting with more than two participants links every pair of them. Every edge carries ``weight`` (the
number of distinct meetings behind it) and, in meeting order (by date, undated last, then IRI), the lists
``meetings`` (IRIs), ``dates`` (ISO strings at the meeting's precision, ``""`` when unknown),
``meeting_topics`` and ``meeting_quotes`` (one list per meeting), plus ``topics`` (sorted union), ``quotes``
(all evidence quotes, de-duplicated), ``first_date`` and ``last_date``. Nodes carry ``label``, ``type``
(``Person``, ``State``, ``Organization``, ``Actor`` when untyped, ``Topic``), ``iri``, ``affiliation`` (labels
of a person's states, ``"; "``-joined) and ``meetings`` (how many selected meetings the node is in).

Only ``dg:Meeting`` counts; ``dg:PlannedMeeting`` is left out unless ``include_planned=True``.

Slicing (:func:`in_period`): ``date_from``/``date_to`` are ISO strings (``YYYY``, ``YYYY-MM`` or
``YYYY-MM-DD``), both inclusive, compared with the meeting's date as strings cut to the shorter of the two
precisions — a meeting dated ``2024-04`` lies inside ``2024-04-15..2024-04-20``. A meeting without a date is
left out of any sliced period. ``topic`` is a topic notation (or several); a meeting is kept when it has
one of them.

The output is deterministic: nodes are added sorted by IRI, edges sorted by their (sorted) end points.

The input is an rdflib :class:`~rdflib.Graph` (anything with rdflib's ``query``), read with SPARQL once
by :func:`load_meetings`; pass the returned :class:`MeetingData` instead of the graph to project the same
data several times without querying again. rdflib's own SPARQL engine is slow on large graphs (about 17 s
for 20,000 meetings / 150k triples here); ``Graph(store="Oxigraph")`` from ``oxrdflib`` gives the same result
in about a quarter of the time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx
from rdflib import Literal, URIRef

from kg.vocab import DG, ID, TOPIC

ACTOR_TYPES = ("Person", "State", "Organization")
_ISO = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_LEXICAL_DATE = re.compile(r"^(\d{4})(-\d{2})?(-\d{2})?")

_PREFIXES = """
PREFIX dg: <https://w3id.org/diplograph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""

Q_MEETINGS = (
    _PREFIXES
    + """
SELECT ?meeting ?class ?date WHERE {
  ?meeting a ?class .
  VALUES ?class { dg:Meeting dg:PlannedMeeting }
  OPTIONAL { ?meeting dg:date ?date }
}"""
)

Q_PARTICIPANTS = (
    _PREFIXES
    + """
SELECT ?meeting ?participant WHERE {
  ?meeting dg:participant ?participant .
}"""
)

Q_TOPICS = (
    _PREFIXES
    + """
SELECT ?meeting ?topic ?notation WHERE {
  ?meeting dg:topic ?topic .
  OPTIONAL { ?topic skos:notation ?notation }
}"""
)

Q_TOPIC_LABELS = (
    _PREFIXES
    + """
SELECT ?topic ?label WHERE {
  ?meeting dg:topic ?topic .
  ?topic skos:prefLabel ?label .
}"""
)

Q_QUOTES = (
    _PREFIXES
    + """
SELECT ?meeting ?quote WHERE {
  ?meeting dg:evidence ?evidence .
  ?evidence dg:quote ?quote .
}"""
)

Q_ACTOR_TYPES = (
    _PREFIXES
    + """
SELECT ?actor ?type WHERE {
  ?actor a ?type .
  VALUES ?type { dg:Person dg:State dg:Organization }
}"""
)

Q_ACTOR_LABELS = (
    _PREFIXES
    + """
SELECT ?actor ?property ?label WHERE {
  { ?meeting dg:participant ?actor } UNION { ?person dg:affiliation ?actor }
  ?actor ?property ?label .
  VALUES ?property { rdfs:label skos:prefLabel }
}"""
)

Q_AFFILIATIONS = (
    _PREFIXES
    + """
SELECT ?person ?state WHERE {
  ?meeting dg:participant ?person .
  ?person dg:affiliation ?state .
}"""
)


@dataclass(frozen=True)
class Actor:
    iri: str
    type: str
    label: str
    affiliations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Topic:
    iri: str
    notation: str
    label: str


@dataclass(frozen=True)
class MeetingRow:
    """One meeting, flattened: participants, topic notations and quotes sorted."""

    iri: str
    date: str | None
    participants: tuple[str, ...]
    topics: tuple[str, ...]
    quotes: tuple[str, ...]
    planned: bool = False


@dataclass
class MeetingData:
    """Everything the projections need, read from the graph once."""

    meetings: list[MeetingRow]
    actors: dict[str, Actor]
    topics: dict[str, Topic]  # by notation
    _states: frozenset[str] = field(default=frozenset(), repr=False)

    def actor(self, iri: str) -> Actor:
        return self.actors.get(iri) or Actor(iri, "Actor", _local_name(iri))

    def states_of(self, iri: str) -> tuple[str, ...]:
        """The states an actor counts for: a state itself, a person's affiliated states, else none."""
        actor = self.actor(iri)
        if actor.type == "State":
            return (iri,)
        if actor.type == "Person":
            return tuple(a for a in actor.affiliations if self._is_state(a))
        return ()

    def _is_state(self, iri: str) -> bool:
        return iri in self._states or iri.startswith(str(ID) + "state/")


# --- reading ------------------------------------------------------------------------------------------


def _local_name(iri: str) -> str:
    return re.split(r"[/#]", iri.rstrip("/#"))[-1]


def _iso_of(value) -> str | None:
    """The ISO string of a ``dg:date`` literal at its own precision, ``None`` if unreadable.

    >>> from rdflib import Literal
    >>> from rdflib.namespace import XSD
    >>> _iso_of(Literal("2024-06", datatype=XSD.gYearMonth))
    '2024-06'
    >>> _iso_of(Literal("2024-06-26Z", datatype=XSD.date))
    '2024-06-26'
    """
    if value is None:
        return None
    match = _LEXICAL_DATE.match(str(value))
    return match.group(0) if match else None


def _topic_notation(topic: str, notation) -> str:
    if notation is not None:
        return str(notation)
    if topic.startswith(str(TOPIC)):
        return topic[len(str(TOPIC)) :]
    return _local_name(topic)


def _label_rank(prop: URIRef, label: Literal) -> tuple:
    """Preference of a label: rdfs:label (plain or English), skos:prefLabel@en, then anything, by text."""
    lang = getattr(label, "language", None) or ""
    is_rdfs = str(prop).endswith("rdf-schema#label")
    if is_rdfs and lang in ("", "en"):
        rank = 0
    elif not is_rdfs and lang == "en":
        rank = 1
    elif not is_rdfs:
        rank = 2
    else:
        rank = 3
    return (rank, lang, str(label))


def load_meetings(graph, include_planned: bool = False) -> MeetingData:
    """Read meetings, their participants, topics and quotes, and the actors' labels/types from ``graph``."""
    classes: dict[str, set] = {}
    dates: dict[str, set[str]] = {}
    for row in graph.query(Q_MEETINGS):
        iri = str(row.meeting)
        classes.setdefault(iri, set()).add(row["class"])
        date = _iso_of(row.date)
        dates.setdefault(iri, set())
        if date is not None:
            dates[iri].add(date)
    planned = {m: DG.PlannedMeeting in cls for m, cls in classes.items()}
    # several dates would be an error in the data; the earliest keeps the result stable
    meeting_date: dict[str, str | None] = {
        m: (min(dates[m]) if dates[m] else None) for m in sorted(classes) if include_planned or not planned[m]
    }

    participants: dict[str, set[str]] = {m: set() for m in meeting_date}
    for row in graph.query(Q_PARTICIPANTS):
        if str(row.meeting) in participants and isinstance(row.participant, URIRef):
            participants[str(row.meeting)].add(str(row.participant))

    topics_of: dict[str, set[str]] = {m: set() for m in meeting_date}
    topic_iri: dict[str, str] = {}
    for row in graph.query(Q_TOPICS):
        notation = _topic_notation(str(row.topic), row.notation)
        topic_iri.setdefault(notation, str(row.topic))
        topic_iri[notation] = min(topic_iri[notation], str(row.topic))
        if str(row.meeting) in topics_of:
            topics_of[str(row.meeting)].add(notation)
    topic_labels: dict[str, list] = {}
    for row in graph.query(Q_TOPIC_LABELS):
        topic_labels.setdefault(str(row.topic), []).append(row.label)
    topics = {}
    for notation, iri in sorted(topic_iri.items()):
        labels = sorted(topic_labels.get(iri, []), key=lambda lab: (lab.language != "en", str(lab)))
        topics[notation] = Topic(iri, notation, str(labels[0]) if labels else notation)

    quotes_of: dict[str, set[str]] = {m: set() for m in meeting_date}
    for row in graph.query(Q_QUOTES):
        if str(row.meeting) in quotes_of:
            quotes_of[str(row.meeting)].add(str(row.quote))

    types: dict[str, set[str]] = {}
    for row in graph.query(Q_ACTOR_TYPES):
        types.setdefault(str(row.actor), set()).add(_local_name(str(row.type)))
    states = frozenset(a for a, ts in types.items() if "State" in ts)
    labels: dict[str, tuple] = {}
    for row in graph.query(Q_ACTOR_LABELS):
        rank = _label_rank(row.property, row.label)
        key = str(row.actor)
        if key not in labels or rank < labels[key]:
            labels[key] = rank
    affiliations: dict[str, set[str]] = {}
    for row in graph.query(Q_AFFILIATIONS):
        if isinstance(row.state, URIRef):
            affiliations.setdefault(str(row.person), set()).add(str(row.state))

    involved = set().union(*participants.values()) if participants else set()
    for affs in affiliations.values():
        involved |= affs
    actors = {}
    for iri in sorted(involved):
        kinds = types.get(iri, set())
        kind = next((t for t in ACTOR_TYPES if t in kinds), "Actor")
        label = labels[iri][2] if iri in labels else _local_name(iri)
        actors[iri] = Actor(iri, kind, label, tuple(sorted(affiliations.get(iri, ()))))

    meetings = [
        MeetingRow(
            iri=m,
            date=meeting_date[m],
            participants=tuple(sorted(participants[m])),
            topics=tuple(sorted(topics_of[m])),
            quotes=tuple(sorted(quotes_of[m])),
            planned=planned.get(m, False),
        )
        for m in meeting_date
    ]
    meetings.sort(key=_meeting_order)
    return MeetingData(meetings=meetings, actors=actors, topics=topics, _states=states)


def _meeting_order(meeting: MeetingRow) -> tuple:
    return (meeting.date is None, meeting.date or "", meeting.iri)


# --- slicing ------------------------------------------------------------------------------------------


def check_iso(value: str | None, name: str = "date") -> str | None:
    """Validate a period bound; ``None`` passes.

    >>> check_iso("2024-06")
    '2024-06'
    >>> check_iso("June 2024")
    Traceback (most recent call last):
    ...
    ValueError: date must be YYYY, YYYY-MM or YYYY-MM-DD, got 'June 2024'
    """
    if value is None:
        return None
    if not _ISO.match(value):
        raise ValueError(f"{name} must be YYYY, YYYY-MM or YYYY-MM-DD, got {value!r}")
    return value


def in_period(date: str | None, date_from: str | None = None, date_to: str | None = None) -> bool:
    """Whether a meeting dated ``date`` lies in ``[date_from, date_to]``, compared at the coarser precision.

    >>> in_period("2024-04", "2024-04-15", "2024-04-20")
    True
    >>> in_period("2024-03-31", "2024-04")
    False
    >>> in_period("2023", None, "2023-01-01")
    True
    >>> in_period(None), in_period(None, "2020")
    (True, False)
    """
    if date is None:
        return date_from is None and date_to is None
    if date_from is not None:
        n = min(len(date), len(date_from))
        if date[:n] < date_from[:n]:
            return False
    if date_to is not None:
        n = min(len(date), len(date_to))
        if date[:n] > date_to[:n]:
            return False
    return True


def _topic_set(topic: str | Iterable[str] | None) -> frozenset[str] | None:
    if topic is None:
        return None
    if isinstance(topic, str):
        return frozenset({topic})
    return frozenset(topic)


def select_meetings(
    data: MeetingData,
    date_from: str | None = None,
    date_to: str | None = None,
    topic: str | Iterable[str] | None = None,
) -> list[MeetingRow]:
    """The meetings of ``data`` inside the period and having one of the topics, in meeting order."""
    check_iso(date_from, "date_from")
    check_iso(date_to, "date_to")
    wanted = _topic_set(topic)
    return [
        m
        for m in data.meetings
        if in_period(m.date, date_from, date_to) and (wanted is None or wanted.intersection(m.topics))
    ]


def _data(source, include_planned: bool) -> MeetingData:
    return source if isinstance(source, MeetingData) else load_meetings(source, include_planned)


# --- building -----------------------------------------------------------------------------------------


def _node_attrs(data: MeetingData, iri: str) -> dict:
    actor = data.actor(iri)
    affiliation = "; ".join(sorted(data.actor(a).label for a in actor.affiliations if data._is_state(a)))
    return {"label": actor.label, "type": actor.type, "iri": iri, "affiliation": affiliation}


def _build(
    data: MeetingData,
    meetings: list[MeetingRow],
    nodes_of,
    kind: str,
    params: dict,
) -> nx.Graph:
    """Turn meetings into a graph: ``nodes_of(meeting)`` gives the (sorted) node ids a meeting links."""
    node_meetings: dict[str, int] = {}
    edges: dict[tuple[str, str], list[MeetingRow]] = {}
    for meeting in meetings:
        nodes = nodes_of(meeting)
        for node in nodes:
            node_meetings[node] = node_meetings.get(node, 0) + 1
        for i, u in enumerate(nodes):
            for v in nodes[i + 1 :]:
                edges.setdefault((u, v), []).append(meeting)
    graph = nx.Graph(projection=kind, **{k: ("" if v is None else v) for k, v in params.items()})
    for node in sorted(node_meetings):
        graph.add_node(node, **_node_attrs(data, node), meetings=node_meetings[node])
    for (u, v), rows in sorted(edges.items()):
        graph.add_edge(u, v, **_edge_attrs(rows))
    return graph


def _edge_attrs(rows: list[MeetingRow]) -> dict:
    dates = [m.date or "" for m in rows]
    known = [d for d in dates if d]
    quotes: list[str] = []
    for m in rows:
        quotes.extend(q for q in m.quotes if q not in quotes)
    return {
        "weight": len(rows),
        "meetings": [m.iri for m in rows],
        "dates": dates,
        "meeting_topics": [list(m.topics) for m in rows],
        "meeting_quotes": [list(m.quotes) for m in rows],
        "topics": sorted({t for m in rows for t in m.topics}),
        "quotes": quotes,
        "first_date": min(known) if known else "",
        "last_date": max(known) if known else "",
    }


def _params(date_from, date_to, topic) -> dict:
    wanted = _topic_set(topic)
    return {
        "date_from": date_from,
        "date_to": date_to,
        "topic": ",".join(sorted(wanted)) if wanted else None,
    }


def person_graph(source, date_from=None, date_to=None, topic=None, include_planned=False) -> nx.Graph:
    """Person–person graph: persons linked by the meetings they attended together."""
    data = _data(source, include_planned)
    meetings = select_meetings(data, date_from, date_to, topic)

    def persons(meeting: MeetingRow) -> list[str]:
        return [p for p in meeting.participants if data.actor(p).type == "Person"]

    return _build(data, meetings, persons, "person", _params(date_from, date_to, topic))


def actor_graph(source, date_from=None, date_to=None, topic=None, include_planned=False) -> nx.Graph:
    """Actor–actor graph: every participant (person, state, organisation) linked by shared meetings."""
    data = _data(source, include_planned)
    meetings = select_meetings(data, date_from, date_to, topic)
    return _build(data, meetings, lambda m: list(m.participants), "actor", _params(date_from, date_to, topic))


def state_graph(source, date_from=None, date_to=None, topic=None, include_planned=False) -> nx.Graph:
    """State–state graph: participants mapped to their states (themselves, or a person's affiliation)."""
    data = _data(source, include_planned)
    meetings = select_meetings(data, date_from, date_to, topic)

    def states(meeting: MeetingRow) -> list[str]:
        return sorted({s for p in meeting.participants for s in data.states_of(p)})

    return _build(data, meetings, states, "state", _params(date_from, date_to, topic))


def actor_topic_graph(source, date_from=None, date_to=None, topic=None, include_planned=False) -> nx.Graph:
    """Bipartite actor–topic graph: ``bipartite=0`` for actors, ``1`` for topics (node id = topic IRI).

    An edge's ``weight`` is the number of the actor's meetings with that topic.
    """
    data = _data(source, include_planned)
    meetings = select_meetings(data, date_from, date_to, topic)
    links: dict[tuple[str, str], list[MeetingRow]] = {}
    actor_count: dict[str, int] = {}
    topic_count: dict[str, int] = {}
    for meeting in meetings:
        for actor in meeting.participants:
            actor_count[actor] = actor_count.get(actor, 0) + 1
            for notation in meeting.topics:
                links.setdefault((actor, notation), []).append(meeting)
        for notation in meeting.topics:
            topic_count[notation] = topic_count.get(notation, 0) + 1
    graph = nx.Graph(
        projection="actor-topic",
        **{k: ("" if v is None else v) for k, v in _params(date_from, date_to, topic).items()},
    )
    for actor in sorted(actor_count):
        graph.add_node(actor, **_node_attrs(data, actor), meetings=actor_count[actor], bipartite=0)
    for notation in sorted(topic_count, key=lambda n: data.topics[n].iri):
        info = data.topics[notation]
        graph.add_node(
            info.iri,
            label=info.label,
            type="Topic",
            iri=info.iri,
            notation=notation,
            affiliation="",
            meetings=topic_count[notation],
            bipartite=1,
        )
    ordered = sorted(links.items(), key=lambda kv: (kv[0][0], data.topics[kv[0][1]].iri))
    for (actor, notation), rows in ordered:
        graph.add_edge(actor, data.topics[notation].iri, **_edge_attrs(rows))
    return graph


PROJECTIONS = {
    "person": person_graph,
    "actor": actor_graph,
    "state": state_graph,
    "actor-topic": actor_topic_graph,
}
