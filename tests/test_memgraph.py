"""The build's compact triple store answers every pattern as rdflib's own memory store does."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS, XSD

from kg.memgraph import TUPLE_LIMIT, CompactMemory, compact_graph
from kg.serialize import turtle_bytes, write_turtle

DATA = Path(__file__).parent / "data"

SUBJECTS = [URIRef(f"urn:s{i}") for i in range(4)] + [BNode("b1")]
PREDICATES = [RDF.type, RDFS.label, URIRef("urn:p"), URIRef("urn:q")]
OBJECTS = [
    *SUBJECTS,
    URIRef("urn:C"),
    URIRef("urn:D"),
    Literal("x"),
    Literal("x", lang="en"),
    Literal("1", datatype=XSD.integer),
    Literal("01", datatype=XSD.integer),
    Literal("urn:s0"),
]
triples = st.tuples(st.sampled_from(SUBJECTS), st.sampled_from(PREDICATES), st.sampled_from(OBJECTS))
patterns = st.tuples(
    st.sampled_from([None, *SUBJECTS]), st.sampled_from([None, *PREDICATES]), st.sampled_from([None, *OBJECTS])
)


def _both() -> tuple[Graph, Graph]:
    return compact_graph(), Graph(store="SimpleMemory")


def _assert_same_answers(compact: Graph, reference: Graph) -> None:
    assert len(compact) == len(reference)
    assert set(compact) == set(reference)
    for pattern in itertools.product([None, *SUBJECTS], [None, *PREDICATES], [None, *OBJECTS]):
        assert set(compact.triples(pattern)) == set(reference.triples(pattern)), pattern


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), triples), max_size=40), st.lists(patterns, max_size=3))
def test_adds_and_removes_answer_like_rdflib(changes, removals):
    compact, reference = _both()
    for add, triple in changes:
        for graph in (compact, reference):
            (graph.add if add else graph.remove)(triple)
    for pattern in removals:
        compact.remove(pattern)
        reference.remove(pattern)
    _assert_same_answers(compact, reference)


def test_a_type_removed_through_an_equal_term_leaves_the_class_index():
    """Regression: removing ``(s, rdf:type, C)`` given a ``rdf:type`` equal to, but not the same object as,
    the store's own left ``s`` among the members of ``C``."""
    graph = compact_graph()
    s, cls = URIRef("urn:s0"), URIRef("urn:C")
    graph.add((s, RDF.type, cls))
    graph.remove((URIRef(str(s)), URIRef(str(RDF.type)), URIRef(str(cls))))
    assert len(graph) == 0
    assert not list(graph.triples((None, RDF.type, None))) and not list(graph.subjects(RDF.type, cls))


def test_many_objects_of_one_predicate_promote_and_demote():
    compact, reference = _both()
    s, p = URIRef("urn:s"), URIRef("urn:p")
    values = [Literal(f"v{i}") for i in range(TUPLE_LIMIT + 5)]
    for value in values + values:
        compact.add((s, p, value))
        reference.add((s, p, value))
    _assert_same_answers(compact, reference)
    assert list(compact.objects(s, p)) == values  # insertion order, as rdflib's stores
    for value in values[1:]:
        compact.remove((s, p, value))
        reference.remove((s, p, value))
    _assert_same_answers(compact, reference)
    compact.remove((s, p, values[0]))
    assert len(compact) == 0 and not list(compact.triples((s, None, None)))


def test_object_index_follows_changes():
    graph = compact_graph()
    a, b, p = URIRef("urn:a"), URIRef("urn:b"), URIRef("urn:p")
    graph.add((a, p, b))
    assert list(graph.subjects(p, b)) == [a]
    graph.add((b, p, b))
    assert set(graph.subjects(p, b)) == {a, b}
    graph.remove((a, None, None))
    assert list(graph.subjects(p, b)) == [b]


def test_terms_are_held_once():
    store = CompactMemory()
    graph = Graph(store=store)
    for i in range(3):
        graph.add((URIRef(f"urn:m{i}"), URIRef("urn:participant"), URIRef("urn:person")))
    held = [next(iter(predicates.values())) for predicates in store._by_subject.values()]
    assert all(term is held[0] for term in held)


def test_sparql_and_turtle_on_a_compact_copy_of_the_sample_graph(tmp_path):
    reference = Graph().parse(DATA / "sample_graph.ttl")
    compact = compact_graph()
    for prefix, namespace in reference.namespaces():
        compact.bind(prefix, namespace)
    for triple in reference:
        compact.add(triple)
    assert isomorphic(compact, reference)
    query = """PREFIX dg: <https://w3id.org/diplograph/ontology#>
    SELECT ?meeting ?who ?label WHERE { ?meeting dg:participant ?who . ?who ?p ?label . FILTER(isLiteral(?label)) }"""
    rows = sorted(map(tuple, compact.query(query)))
    assert rows and rows == sorted(map(tuple, reference.query(query)))
    assert turtle_bytes(compact) == turtle_bytes(reference)
    write_turtle(compact, tmp_path / "graph.ttl")
    assert (tmp_path / "graph.ttl").read_bytes() == turtle_bytes(reference)


def test_write_turtle_streams_what_turtle_bytes_returns(tmp_path):
    from kg.ontology import ontology_graph

    graph = ontology_graph()  # blank nodes: OWL restrictions and lists
    assert any(isinstance(s, BNode) for s in graph.subjects())
    target = tmp_path / "sub" / "ontology.ttl"
    write_turtle(graph, target)
    assert target.read_bytes() == turtle_bytes(graph)
    assert isomorphic(Graph().parse(target), graph)
    write_turtle(Graph(), target)
    assert target.read_bytes() == b"" == turtle_bytes(Graph())
    assert [p.name for p in target.parent.iterdir()] == ["ontology.ttl"]  # no temporaries left behind
