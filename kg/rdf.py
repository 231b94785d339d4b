"""Records -> RDF: every triple the data part of the graph holds (see ``docs/data-model.md``)."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache
from typing import NamedTuple

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, ORG, OWL, PROV, RDF, RDFS, SKOS, XSD

from kg.iri import mint
from kg.memgraph import compact_graph
from kg.model import (
    ArticleExtraction,
    Document,
    MeetingRecord,
    PartialDate,
    Participant,
    PersonEntity,
    in_document_order,
)
from kg.registry import Entry, entry
from kg.vocab import DG, WD, bind_prefixes

MODES = {"in-person": DG.InPerson, "phone": DG.PhoneCall, "video": DG.VideoCall, "session": DG.MultilateralSession}
LABEL_LANGS = ("en", "ru", "mk", "ar")
KIND_CLASSES = {"state": DG.State, "org": DG.Organization, "city": DG.City, "region": DG.Place}
#: The classes whose members get ``dg:nameKey`` literals, and the predicates whose values are their names.
ACTOR_CLASSES = (DG.Person, DG.State, DG.Organization)
NAME_PREDICATES = (RDFS.label, SKOS.prefLabel, SKOS.altLabel, DG.isoCode)


@lru_cache(maxsize=1 << 16)
def date_literal(date: PartialDate) -> Literal:
    """The typed literal of a date (remembered: rdflib parses the lexical form of each new literal, and a
    graph repeats a few thousand dates in every tenure, meeting and article)."""
    return Literal(date.iso(), datatype=date.datatype)


def article_iri(article_id: str) -> URIRef:
    return mint("article", article_id)


def registry_iri(label: str) -> URIRef:
    kind, key = label.split(":", 1)
    return mint(kind, key)


def participant_iri(person_keys: dict[tuple[str, str], str], article_id: str, part: Participant) -> URIRef:
    """The IRI a meeting gives one of its participants (a person through the global person keys)."""
    if part.kind == "person":
        return mint("person", person_keys[(article_id, part.key)])
    return registry_iri(f"{part.kind}:{part.key}")


class GraphBuilder:
    """Accumulates the data graph for a set of article extractions.

    It also notes which subjects each thing it adds stands for (:mod:`kg.incremental` rewrites a graph by
    them): each article's evidence nodes (``evidence_of``), each person's tenures (``tenures_of``), the
    meetings of each set of participants (``meetings_of``), and the registry entities and posts it described
    (``shared``: their triples follow from their IRIs alone)."""

    def __init__(self, person_keys: dict[tuple[str, str], str], possibly_same: dict[str, set[str]]):
        # One graph on a store indexed by subject and class only: a quarter of rdflib's memory per triple.
        self.g = compact_graph()
        bind_prefixes(self.g)
        self.person_keys = person_keys
        self.possibly_same = possibly_same
        self.registry_done: set[str] = set()
        self.person_forms: dict[URIRef, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.evidence_of: dict[str, set[URIRef]] = defaultdict(set)
        self.tenures_of: dict[URIRef, set[URIRef]] = defaultdict(set)
        self.meetings_of: dict[tuple[URIRef, ...], list[URIRef]] = defaultdict(list)
        self.shared: set[URIRef] = set()
        # what add_person and add_tenure have added once and for all (a person seen in thousands of articles,
        # a tenure observed in as many, add the same triples again and again otherwise)
        self._described: set = set()

    # entities
    def person_iri(self, article_id: str, local_id: str) -> URIRef:
        return mint("person", self.person_keys[(article_id, local_id)])

    def participant_iri(self, article_id: str, part: Participant) -> URIRef:
        if part.kind != "person":
            self.add_registry(f"{part.kind}:{part.key}")
        return participant_iri(self.person_keys, article_id, part)

    def add_registry(self, label: str) -> None:
        if label in self.registry_done:
            return
        item = entry(label)
        if item is None:
            return
        self.registry_done.add(label)
        iri = registry_iri(label)
        self.shared.add(iri)
        g = self.g
        g.add((iri, RDF.type, KIND_CLASSES[item.kind]))
        english = item.preferred("en") or item.key
        g.add((iri, RDFS.label, Literal(english, lang="en")))
        _labels(g, iri, item)
        if item.wikidata:
            g.add((iri, OWL.sameAs, WD[item.wikidata]))
        if item.kind == "state":
            g.add((iri, DG.isoCode, Literal(item.key)))
        if item.kind == "city" and item.country:
            self.add_registry(f"state:{item.country}")
            g.add((iri, DG.locatedIn, mint("state", item.country)))
        if item.kind == "org" and item.parent and entry(f"org:{item.parent}"):
            self.add_registry(f"org:{item.parent}")
            g.add((iri, ORG.subOrganizationOf, mint("org", item.parent)))

    def add_person(self, ex: ArticleExtraction, local_id: str, person: PersonEntity) -> URIRef:
        iri = self.person_iri(ex.document.id, local_id)
        lang = ex.document.language
        if iri not in self._described:
            self._described.add(iri)
            self.g.add((iri, RDF.type, DG.Person))
        self.g.add((iri, DG.mentionedIn, article_iri(ex.document.id)))
        forms = self.person_forms[iri][lang]
        for form in sorted(person.forms, key=lambda f: (-len(f.split()), f)):
            if form not in forms:
                forms.append(form)
        seen_on = ex.document.reference_date
        for role in person.roles:
            tenure = self.add_tenure(iri, role.key, role.text, role.affiliation, lang, seen_on)
            self.g.add((tenure, PROV.wasDerivedFrom, article_iri(ex.document.id)))
            if role.affiliation and (iri, role.affiliation) not in self._described and entry(role.affiliation):
                self._described.add((iri, role.affiliation))
                self.add_registry(role.affiliation)
                self.g.add((iri, DG.affiliation, registry_iri(role.affiliation)))
        return iri

    def add_tenure(self, person: URIRef, role_key, role_text, affiliation, lang, seen_on) -> URIRef:
        g = self.g
        tenure = mint("tenure", str(person), role_key or role_text or "", affiliation or "")
        if seen_on is not None:
            g.add((tenure, DG.observedOn, date_literal(seen_on)))
        if role_text and (tenure, role_text, lang) not in self._described:
            self._described.add((tenure, role_text, lang))
            g.add((tenure, DG.roleLabel, Literal(role_text, lang=lang)))
        if (tenure, role_key) in self._described:  # what follows is a function of these (and the IRI's parts)
            return tenure
        self._described.add((tenure, role_key))
        self.tenures_of[person].add(tenure)
        g.add((tenure, RDF.type, DG.Tenure))
        g.add((tenure, ORG.member, person))
        g.add((person, DG.tenure, tenure))
        if role_key:
            g.add((tenure, ORG.role, mint("role", role_key)))
        if affiliation and entry(affiliation):
            g.add((tenure, ORG.organization, registry_iri(affiliation)))
            if role_key:
                post = mint("post", role_key, affiliation)
                self.shared.add(post)
                g.add((tenure, DG.ofPost, post))
                g.add((post, RDF.type, DG.Post))
                g.add((post, ORG.postIn, registry_iri(affiliation)))
                g.add((post, ORG.role, mint("role", role_key)))
                g.add((post, RDFS.label, Literal(f"{role_key} of {entry(affiliation).preferred('en')}", lang="en")))
        return tenure

    # articles and meetings
    def add_article(self, ex: ArticleExtraction, node: bool = True) -> None:
        """The article's node (unless ``node`` is false: :mod:`kg.incremental` adds an unchanged article for
        its people alone) and its people."""
        if node:
            self._add_article_node(ex.document)
        for local_id, person in sorted(ex.persons.items()):
            self.add_person(ex, local_id, person)

    def _add_article_node(self, doc: Document) -> None:
        iri = article_iri(doc.id)
        g = self.g
        g.add((iri, RDF.type, DG.Article))
        g.add((iri, DCTERMS.identifier, Literal(doc.id)))
        g.add((iri, DCTERMS.language, Literal(doc.language)))
        if doc.published:
            g.add((iri, DCTERMS.issued, date_literal(doc.published)))
        if doc.title:
            g.add((iri, DCTERMS.title, Literal(doc.title, lang=doc.language if doc.language != "unknown" else None)))
        g.add((iri, DG.contentHash, Literal(doc.content_hash)))

    def meeting_participants(self, ex: ArticleExtraction, record: MeetingRecord) -> tuple[URIRef, ...]:
        return tuple(sorted({self.participant_iri(ex.document.id, p) for p in record.participants}))

    def add_meeting(self, reports: list[tuple[ArticleExtraction, MeetingRecord]]) -> URIRef:
        """One Meeting from every article that reports it, with each article's evidence."""
        g = self.g
        first_ex, first = reports[0]
        participants = self.meeting_participants(first_ex, first)
        start = min(first.evidence)[0]
        iri = mint("meeting", first_ex.document.id, str(start), *map(str, participants))
        self.meetings_of[participants].append(iri)
        planned = all(record.planned for _, record in reports)
        g.add((iri, RDF.type, DG.PlannedMeeting if planned else DG.Meeting))
        for part in participants:
            g.add((iri, DG.participant, part))
        modes = {record.mode for _, record in reports}
        g.add((iri, DG.mode, MODES.get(first.mode if len(modes) == 1 else min(modes), DG.InPerson)))
        dates = [record.date for _, record in reports if record.date]
        if dates:
            g.add((iri, DG.date, date_literal(max(dates, key=lambda d: (len(d.iso()), d.iso())))))
        places = sorted(record.place for _, record in reports if record.place and entry(record.place))
        if places:
            self.add_registry(places[0])
            g.add((iri, DG.place, registry_iri(places[0])))
        for notation in sorted({t for _, record in reports for t in record.topics}):
            g.add((iri, DG.topic, mint("topic", notation)))
        for ex, record in reports:
            doc = ex.document
            g.add((iri, PROV.wasDerivedFrom, article_iri(doc.id)))
            for ev_start, ev_end in sorted(record.evidence):
                ev = mint("evidence", doc.id, str(ev_start), str(ev_end))
                self.evidence_of[doc.id].add(ev)
                g.add((iri, DG.evidence, ev))
                g.add((ev, RDF.type, DG.Evidence))
                g.add((ev, DG.inArticle, article_iri(doc.id)))
                g.add((ev, DG.quote, Literal(ex.quote(ev_start, ev_end))))
                g.add((ev, DG.startOffset, Literal(ev_start, datatype=XSD.nonNegativeInteger)))
                g.add((ev, DG.endOffset, Literal(ev_end, datatype=XSD.nonNegativeInteger)))
        return iri

    def finish(self) -> Graph:
        """Write person labels once every article has contributed its forms; link weak matches; then the
        name keys of every actor (:func:`add_name_keys`)."""
        for iri, by_lang in self.person_forms.items():
            all_forms = [(lang, f) for lang, forms in sorted(by_lang.items()) for f in forms]
            best = max(all_forms, key=lambda lf: label_rank(lf[1]))
            self.g.add((iri, RDFS.label, Literal(best[1])))
            for lang, forms in sorted(by_lang.items()):
                code = lang if lang in LABEL_LANGS else None
                self.g.add((iri, SKOS.prefLabel, Literal(forms[0], lang=code)))
                for alt in forms[1:]:
                    self.g.add((iri, SKOS.altLabel, Literal(alt, lang=code)))
        for tenure in sorted(set(self.g.subjects(RDF.type, DG.Tenure))):
            seen = sorted(self.g.objects(tenure, DG.observedOn), key=observation_rank)
            if seen:
                self.g.add((tenure, DG.firstObserved, seen[0]))
                self.g.add((tenure, DG.lastObserved, seen[-1]))
        for key, others in self.possibly_same.items():
            person = mint("person", key)
            if person in self.person_forms:  # a partial graph's builder describes some of the people linked
                for other in others:
                    self.g.add((person, DG.possiblySame, mint("person", other)))
        return add_name_keys(self.g)


def grown_block(old: str, delta: str) -> str:
    """The block of a person or tenure that was ``old`` and is now also mentioned in new articles, where
    ``delta`` is its block from a :class:`GraphBuilder` given the new articles alone (both as
    :func:`kg.serialize.plain_block` writes them): what :meth:`GraphBuilder.finish` writes from all of them,
    provided the new articles add to the old mentions and none of them comes before the first old mention
    in its language (:func:`kg.incremental.owner_digests` decides that). Every property is the union of
    both, except what ``finish`` chooses among them:

    - ``rdfs:label``: the better of the two (the same order as ``finish``);
    - ``skos:prefLabel``: per language, the old one (the first form in document order), the new one only
      where there was none in that language; a new one not kept is an ``skos:altLabel``, which are the
      forms that are not preferred;
    - ``dg:firstObserved``/``dg:lastObserved``: the first and last of all ``dg:observedOn``.

    >>> old = '<urn:p>\\n    rdfs:label "Ivan" ;\\n    skos:prefLabel "Ivan"@en ;\\n.\\n'
    >>> print(grown_block(old, '<urn:p>\\n    rdfs:label "Ivan Petrov" ;\\n    skos:prefLabel "Petrov"@en ;\\n.\\n'))
    <urn:p>
        rdfs:label "Ivan Petrov" ;
        skos:altLabel "Petrov"@en ;
        skos:prefLabel "Ivan"@en ;
    .
    <BLANKLINE>
    """
    from kg.serialize import block_sections, predicate_order, sections_block

    subject, sections = block_sections(old)
    _, added = block_sections(delta)
    names = _chosen_names()
    merged = {name: _sorted_union(sections.get(name, []), added.get(name, [])) for name in sections.keys() | added}
    if names.label in added and names.label in sections:
        merged[names.label] = [max(sections[names.label] + added[names.label], key=_label_order)]
    if names.pref in added:
        preferred = {_language_tag(form): form for form in sections.get(names.pref, ())}
        for form in added[names.pref]:
            preferred.setdefault(_language_tag(form), form)
        merged[names.pref] = sorted(preferred.values())
        alternatives = set(merged.get(names.alt, ())) | set(added[names.pref])
        alternatives -= set(preferred.values())
        merged.pop(names.alt, None)
        if alternatives:
            merged[names.alt] = sorted(alternatives)
    if names.observed in added:
        seen = sorted(merged[names.observed], key=_observation_order)
        merged[names.first], merged[names.last] = [seen[0]], [seen[-1]]
    return sections_block(subject, {name: merged[name] for name in sorted(merged, key=predicate_order)})


class _ChosenNames(NamedTuple):
    label: str
    pref: str
    alt: str
    observed: str
    first: str
    last: str


@lru_cache(maxsize=1)
def _chosen_names() -> _ChosenNames:
    """The properties :func:`grown_block` does not merely unite, as blocks write them."""
    from kg.serialize import term_text

    cache: dict = {}
    return _ChosenNames(*(term_text(p, set(), cache) for p in (
        RDFS.label, SKOS.prefLabel, SKOS.altLabel, DG.observedOn, DG.firstObserved, DG.lastObserved)))


def _sorted_union(old: list[str], new: list[str]) -> list[str]:
    """Two sorted lists of distinct texts as one (a long list gaining a few is spliced, not sorted again)."""
    if len(new) * 16 >= len(old):
        return sorted(set(old).union(new))
    merged = list(old)
    for value in new:
        at = bisect_left(merged, value)
        if at == len(merged) or merged[at] != value:
            merged.insert(at, value)
    return merged


def label_rank(form: str) -> tuple:
    """How a person's ``rdfs:label`` is chosen among their forms: the highest (most words, then Latin script)."""
    return len(form.split()), form.isascii(), form


def observation_rank(date: Literal) -> tuple[str, str]:
    """How a tenure's observations are ordered, for its first and last."""
    return str(date), str(date.datatype)


def _label_order(text: str) -> tuple:
    """:func:`label_rank` of a label as a block writes it."""
    from kg.serialize import term_from_text

    return label_rank(str(term_from_text(text)))


def _language_tag(text: str) -> str:
    return text[text.rindex('"') + 1:]


@lru_cache(maxsize=1 << 12)
def _observation_order(text: str) -> tuple[str, str]:
    """:func:`observation_rank` of an observation as a block writes it."""
    from kg.serialize import term_from_text

    return observation_rank(term_from_text(text))


def _labels(g: Graph, iri: URIRef, item: Entry) -> None:
    for lang in LABEL_LANGS:
        names = item.names.get(lang) or []
        if names:
            g.add((iri, SKOS.prefLabel, Literal(names[0], lang=lang)))
        for alt in [*names[1:], *(item.acronyms.get(lang) or [])]:
            g.add((iri, SKOS.altLabel, Literal(alt, lang=lang)))


def name_key(value) -> str:
    """The ``dg:nameKey`` of one name: the name lower-cased, nothing else changed (it equals SPARQL ``LCASE``).

    >>> name_key(Literal("Sergey Lavrov", lang="en"))
    'sergey lavrov'
    >>> name_key(Literal("Сергея Лаврова", lang="ru"))
    'сергея лаврова'
    >>> name_key(Literal("KZ"))
    'kz'
    >>> name_key(Literal("  Mucunski "))
    '  mucunski '
    """
    return str(value).lower()


def add_name_keys(g: Graph) -> Graph:
    """Give every person, state and organisation of ``g`` one ``dg:nameKey`` per distinct lower-cased name
    (its ``rdfs:label``, ``skos:prefLabel``, ``skos:altLabel`` in any language, and ``dg:isoCode``), as
    plain strings, so that a case-insensitive name lookup is an index hit: ``?actor dg:nameKey "lavrov"``.
    Run on a finished graph, after every label is written; returns ``g``."""
    actors = {s for cls in ACTOR_CLASSES for s in g.subjects(RDF.type, cls) if isinstance(s, URIRef)}
    for actor in sorted(actors):
        keys = {name_key(v) for p in NAME_PREDICATES for v in g.objects(actor, p) if isinstance(v, Literal)}
        for key in sorted(keys):
            g.add((actor, DG.nameKey, Literal(key)))
    return g


def _dates_agree(a: PartialDate | None, b: PartialDate | None) -> bool:
    """Two reports can be of one meeting when one date is the other at a coarser precision."""
    if a is None or b is None:
        return False
    x, y = sorted((a.iso(), b.iso()), key=len)
    return y.startswith(x)


class MeetingGroups:
    """The reports of one meeting across articles, grouped as articles are added in document order: the same
    participants on an agreeing date. Reports from one article are never merged here (the article already
    merged its own)."""

    def __init__(self, builder: GraphBuilder) -> None:
        self.builder = builder
        self.groups: list[list[tuple[ArticleExtraction, MeetingRecord]]] = []
        self._index: dict[tuple[URIRef, ...], list[int]] = {}

    def add(self, ex: ArticleExtraction) -> None:
        ex = replace(ex, persons={})  # what a meeting reads of its article: the document and the quotes
        for record in ex.meetings:
            key = self.builder.meeting_participants(ex, record)
            target = None
            for k in self._index.get(key, []):
                group = self.groups[k]
                if all(other.document.id != ex.document.id for other, _ in group) and all(
                    _dates_agree(r.date, record.date) and r.planned == record.planned for _, r in group
                ):
                    target = k
                    break
            if target is None:
                self._index.setdefault(key, []).append(len(self.groups))
                self.groups.append([(ex, record)])
            else:
                self.groups[target].append((ex, record))


def data_graph(extractions: Iterable[ArticleExtraction], person_keys, possibly_same,
               builder: GraphBuilder | None = None) -> Graph:
    """The data graph of ``extractions`` (read once, in document order: each article with its people, its
    meetings grouped with other articles' reports of them; then the meetings), given the global person keys
    of :func:`kg.identity.link_persons`; on ``builder`` where given (to read what it noted afterwards)."""
    builder = builder if builder is not None else GraphBuilder(person_keys, possibly_same)
    grouped = MeetingGroups(builder)
    for ex in in_document_order(extractions):
        builder.add_article(ex)
        grouped.add(ex)
    for reports in grouped.groups:
        builder.add_meeting(reports)
    return builder.finish()
