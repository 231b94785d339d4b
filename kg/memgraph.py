"""A compact in-memory triple store for building large graphs: an rdflib ``Store``.

rdflib's memory stores index every triple three ways (by subject, by predicate and by object), which costs
about 0.65 KB a triple: a build of 10^7 triples would hold 6.5 GB before writing a byte. What a build asks
of its graph is narrower: a subject's triples (Turtle blocks, SHACL fragments, tenures) and the members of
a class. So :class:`CompactMemory` keeps

- one index by subject, ``{subject: {predicate: objects}}``, where ``objects`` is the object itself when
  there is one (most predicates), a tuple when there are a few, an insertion-ordered dict when many;
- one index by class (the subjects of each ``rdf:type`` object), for ``graph.subjects(RDF.type, C)``;
- every term once (an IRI minted for each of a million triples is held by one object).

A pattern with an unbound subject and a bound object (a SPARQL join over a built graph, a projection
reading meetings by participant) builds an index by object on first use, kept until the graph next changes;
any other pattern with an unbound subject scans the subjects. Iteration follows insertion order, as rdflib's
own stores do. Use :func:`compact_graph` for a ready ``Graph``:

>>> from rdflib import Literal, URIRef
>>> from rdflib.namespace import RDF, RDFS
>>> g = compact_graph()
>>> a, b, cls = URIRef("urn:a"), URIRef("urn:b"), URIRef("urn:C")
>>> for triple in [(a, RDF.type, cls), (b, RDF.type, cls), (a, RDFS.label, Literal("A")), (a, RDFS.seeAlso, b)]:
...     _ = g.add(triple).add(triple)
>>> len(g), sorted(map(str, g.subjects(RDF.type, cls))), [str(s) for s in g.subjects(None, b)]
(4, ['urn:a', 'urn:b'], ['urn:a'])
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from rdflib import Graph, URIRef
from rdflib.namespace import RDF
from rdflib.store import Store

#: Objects of one (subject, predicate) are a tuple up to this many, then a dict (membership in O(1)).
TUPLE_LIMIT = 12
_TYPE = RDF.type


def compact_graph() -> Graph:
    """An empty ``Graph`` on a fresh :class:`CompactMemory` store."""
    return _DirectGraph(store=CompactMemory())


class _DirectGraph(Graph):
    """A ``Graph`` whose ``add`` hands the triple straight to its store. rdflib's own first asserts that each
    term is a node, checks ``python -O`` drops anyway, which cost a third of adding a triple to a compact
    store; a build adds every triple of the graph through here."""

    def add(self, triple):
        self.store.add(triple, self, quoted=False)
        return self


def objects_grouper(graph: Graph) -> Callable[[Any], dict]:
    """A function from a subject of ``graph`` to its predicates, each with its objects: the compact store's
    :meth:`CompactMemory.objects_by_predicate` (no triple pattern's generators), or the same grouping read
    through ``predicate_objects`` on any other graph.

    >>> from rdflib import URIRef
    >>> g = compact_graph(); _ = g.add((URIRef("urn:s"), URIRef("urn:p"), URIRef("urn:o")))
    >>> objects_grouper(g)(URIRef("urn:s")) == objects_grouper(Graph() + g)(URIRef("urn:s")) == {
    ...     URIRef("urn:p"): (URIRef("urn:o"),)}
    True
    """
    grouped = getattr(graph.store, "objects_by_predicate", None)
    if grouped is not None:
        return grouped

    def by_predicate(subject) -> dict:
        found: dict = defaultdict(list)
        for p, o in graph.predicate_objects(subject):
            found[p].append(o)
        return {p: tuple(objects) for p, objects in found.items()}

    return by_predicate


def _no_contexts() -> Iterator:
    return iter(())


def _objects(held) -> tuple:
    if isinstance(held, tuple):
        return held
    if isinstance(held, dict):
        return tuple(held)
    return (held,)


class CompactMemory(Store):
    """A context-free triple store indexed by subject and by class; see the module's docstring."""

    context_aware = False
    formula_aware = False
    graph_aware = False
    transaction_aware = False

    def __init__(self, configuration: str | None = None, identifier=None):
        super().__init__(configuration)
        self.identifier = identifier
        self._by_subject: dict = {}
        self._by_class: dict = {}
        self._terms: dict = {_TYPE: _TYPE}
        self._by_object: dict | None = None
        self._size = 0
        self._namespace: dict[str, URIRef] = {}
        self._prefix: dict[URIRef, str] = {}

    # --- changes ---------------------------------------------------------------------------------------

    def add(self, triple, context=None, quoted: bool = False) -> None:
        s, p, o = triple
        terms = self._terms
        s = terms.setdefault(s, s)
        p = terms.setdefault(p, p)
        o = terms.setdefault(o, o)
        # Terms are interned, so two are equal exactly when they are the same object.
        predicates = self._by_subject.get(s)
        if predicates is None:
            self._by_subject[s] = {p: o}
        else:
            held = predicates.get(p)
            if held is None:
                predicates[p] = o
            elif held is o:
                return
            elif type(held) is dict:
                if o in held:
                    return
                held[o] = None
            elif type(held) is tuple:
                if o in held:
                    return
                predicates[p] = held + (o,) if len(held) < TUPLE_LIMIT else dict.fromkeys((*held, o))
            else:
                predicates[p] = (held, o)
        self._size += 1
        if p is _TYPE:
            self._by_class.setdefault(o, {})[s] = None
        self._by_object = None

    def remove(self, triple_pattern, context=None) -> None:
        for (s, p, o), _ in list(self.triples(triple_pattern)):
            self._discard(s, p, o)

    def _discard(self, s, p, o) -> None:
        predicates = self._by_subject[s]
        held = predicates[p]
        if isinstance(held, dict):
            del held[o]
            if len(held) == 1:
                predicates[p] = next(iter(held))
        elif isinstance(held, tuple):
            rest = tuple(x for x in held if x != o)
            predicates[p] = rest[0] if len(rest) == 1 else rest
        else:
            del predicates[p]
            if not predicates:
                del self._by_subject[s]
        self._size -= 1
        if p == _TYPE:  # the pattern's term, not always the interned one (kg.memgraph.CompactMemory.add)
            members = self._by_class[o]
            del members[s]
            if not members:
                del self._by_class[o]
        self._by_object = None

    # --- reading ---------------------------------------------------------------------------------------

    def triples(self, triple_pattern, context=None):
        s, p, o = triple_pattern
        if s is not None:
            predicates = self._by_subject.get(s)
            if predicates:
                yield from self._of_subject(s, predicates, p, o)
            return
        if p is not None and p == _TYPE:
            classes = [o] if o is not None else list(self._by_class)
            for cls in classes:
                for subject in list(self._by_class.get(cls, ())):
                    yield (subject, p, cls), _no_contexts()
            return
        if o is not None:
            for subject, predicate in self._object_index().get(o, ()):
                if p is None or predicate == p:
                    yield (subject, predicate, o), _no_contexts()
            return
        for subject in list(self._by_subject):
            predicates = self._by_subject.get(subject)
            if predicates:
                yield from self._of_subject(subject, predicates, p, None)

    def _of_subject(self, s, predicates: dict, p, o):
        if p is None:
            pairs = list(predicates.items())
        elif p in predicates:
            pairs = [(p, predicates[p])]
        else:
            return
        for predicate, held in pairs:
            for obj in _objects(held):
                if o is None or obj == o:
                    yield (s, predicate, obj), _no_contexts()

    def objects_by_predicate(self, subject) -> dict:
        """Each predicate of ``subject`` with its objects (a tuple): what a writer of its block reads, without
        a triple pattern's generators."""
        predicates = self._by_subject.get(subject)
        return {p: _objects(held) for p, held in predicates.items()} if predicates else {}

    def _object_index(self) -> dict:
        if self._by_object is None:
            index: dict = {}
            for subject, predicates in self._by_subject.items():
                for predicate, held in predicates.items():
                    for obj in _objects(held):
                        index.setdefault(obj, []).append((subject, predicate))
            self._by_object = index
        return self._by_object

    def __len__(self, context=None) -> int:
        return self._size

    def contexts(self, triple=None):
        return _no_contexts()

    # --- prefixes --------------------------------------------------------------------------------------

    def bind(self, prefix: str, namespace, override: bool = True) -> None:
        namespace = URIRef(namespace)
        old_prefix = self._prefix.get(namespace)
        old_namespace = self._namespace.get(prefix)
        if not override and (old_prefix is not None or old_namespace is not None):
            return
        if old_prefix is not None:
            self._namespace.pop(old_prefix, None)
        if old_namespace is not None:
            self._prefix.pop(old_namespace, None)
        self._prefix[namespace] = prefix
        self._namespace[prefix] = namespace

    def namespace(self, prefix: str) -> URIRef | None:
        return self._namespace.get(prefix)

    def prefix(self, namespace) -> str | None:
        return self._prefix.get(URIRef(namespace))

    def namespaces(self):
        yield from list(self._namespace.items())
