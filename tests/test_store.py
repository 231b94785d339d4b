"""kg.store: one factory over Oxigraph and rdflib, bound parameters, limits, the atomic persistent store."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD

from kg.errors import QueryError
from kg.store import (
    QueryTimeout,
    ResultTooLarge,
    StoreError,
    analyse_query,
    build_store,
    open_store,
    store_info,
)

DATA = Path(__file__).resolve().parent / "data"
SAMPLE = DATA / "sample_graph.ttl"
DG = "https://w3id.org/diplograph/ontology#"
ID = "https://w3id.org/diplograph/id/"
BACKENDS = ("oxigraph", "rdflib")
# ~31 million rows: seconds for Oxigraph (whose abandoned thread runs to the end), hours for rdflib
CROSS_JOIN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g a ?h }"


@pytest.fixture(scope="module", params=BACKENDS)
def store(request):
    return open_store(SAMPLE, backend=request.param)


def test_both_backends_hold_the_same_triples():
    counts = {backend: len(open_store(SAMPLE, backend=backend)) for backend in BACKENDS}
    assert counts["oxigraph"] == counts["rdflib"] == len(Graph().parse(SAMPLE))


def test_rows_are_rdflib_terms_in_variable_order(store):
    result = store.query(
        f"SELECT ?label ?date ?m WHERE {{ ?m a <{DG}Meeting> ; "
        f"<http://www.w3.org/2000/01/rdf-schema#label> ?label ;"
        f" <{DG}date> ?date }} ORDER BY ?date LIMIT 1"
    )
    assert result.kind == "select"
    assert result.variables == ["label", "date", "m"]
    ((label, date, meeting),) = result.rows()
    assert isinstance(meeting, URIRef) and meeting.startswith(ID + "meeting/")
    assert label == Literal("Sergey Lavrov – Bujar Osmani, 2023-03-15", lang="en")
    assert date == Literal("2023-03-15", datatype=XSD.date)


def test_plain_strings_compare_equal_across_backends():
    query = f"SELECT ?code WHERE {{ <{ID}state/KZ> <{DG}isoCode> ?code }}"
    values = {b: open_store(SAMPLE, backend=b).query(query).rows() for b in BACKENDS}
    assert values["oxigraph"] == values["rdflib"] == [(Literal("KZ"),)]
    assert values["oxigraph"][0][0].datatype is None


def test_unbound_variables_are_none(store):
    query = (
        f"SELECT ?m ?place WHERE {{ ?m a <{DG}Meeting> . OPTIONAL {{ ?m <{DG}place> ?place }} "
        f"FILTER(!BOUND(?place)) }}"
    )
    rows = store.query(query).rows()
    assert rows and all(place is None for _, place in rows)


def test_ask_and_construct(store):
    ask = store.query(f"ASK {{ <{ID}state/KZ> a <{DG}State> }}")
    assert ask.kind == "ask" and ask.boolean is True
    graph = store.query(f"CONSTRUCT {{ ?s a <{DG}State> }} WHERE {{ ?s a <{DG}State> }}")
    assert graph.kind == "graph"
    triples = graph.rows()
    assert (
        URIRef(ID + "state/MT"),
        URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
        URIRef(DG + "State"),
    ) in triples
    assert len(triples) == 7


def test_rows_are_read_lazily_and_once(store):
    result = store.query("SELECT ?a ?b WHERE { ?a ?p ?x . ?b ?q ?y }")  # ~317,000 rows
    first = list(itertools.islice(iter(result), 3))
    assert len(first) == 3
    with pytest.raises(QueryError, match="only once"):
        iter(result)


def test_max_rows_stops_reading(store):
    result = store.query(f"SELECT ?s WHERE {{ ?s a <{DG}Person> }}", max_rows=4)
    with pytest.raises(ResultTooLarge, match="more than 4 rows"):
        result.rows()
    assert len(store.query(f"SELECT ?s WHERE {{ ?s a <{DG}Person> }}", max_rows=9).rows()) == 9


def test_bindings_are_rdf_terms(store):
    query = "SELECT ?person ?name WHERE { ?person <http://www.w3.org/2000/01/rdf-schema#label> ?name }"
    rows = store.query(query, bindings={"name": Literal("Ian Borg")}).rows()
    assert len(rows) == 1 and rows[0][1] == Literal("Ian Borg")
    injected = 'Ian Borg" } UNION { ?person ?p ?name } #'
    assert store.query(query, bindings={"name": Literal(injected)}).rows() == []
    by_iri = store.query(query, bindings={"person": URIRef(ID + "state/KZ")}).rows()
    assert by_iri == [(URIRef(ID + "state/KZ"), Literal("Kazakhstan", lang="en"))]


def test_a_parameter_must_be_a_result_variable(store):
    query = "SELECT ?person WHERE { ?person <http://www.w3.org/2000/01/rdf-schema#label> ?name }"
    with pytest.raises(QueryError, match=r"cannot bind \?name: a parameter of a SELECT query must be one of"):
        store.query(query, bindings={"name": Literal("Ian Borg")}).rows()
    with pytest.raises(QueryError, match=r"no variable of that name"):
        store.query(query, bindings={"nobody": Literal("x")})


def test_updates_and_service_are_refused(store):
    for update in (
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "PREFIX x: <urn:x#> # SELECT\nDELETE WHERE { ?s ?p ?o }",
        "LOAD <http://example.org/x.ttl>",
        "CLEAR ALL",
        "DROP DEFAULT",
    ):
        with pytest.raises(QueryError, match="updates are refused"):
            store.query(update)
    with pytest.raises(QueryError, match="SERVICE"):
        store.query("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    assert len(store) == len(Graph().parse(SAMPLE))


def test_malformed_query_names_line_and_column(store):
    with pytest.raises(QueryError, match=r"malformed query at line \d+, column \d+"):
        store.query("PREFIX dg: <urn:x>\nSELECT ?x\nWHERE { ?x ?p }")


def test_time_limit_stops_a_cross_join_and_the_store_still_answers(store):
    with pytest.raises(QueryTimeout, match="time limit of 0.5 s"):
        store.query(CROSS_JOIN, timeout_s=0.5).rows()
    rows = store.query(f"SELECT ?s WHERE {{ ?s a <{DG}Organization> }}", timeout_s=30).rows()
    assert rows == [(URIRef(ID + "org/osce"),)]


def test_analyse_query_skips_comments_strings_and_iris():
    assert analyse_query("# INSERT\nSELECT * WHERE { ?s ?p 'DELETE' }").form == "SELECT"
    assert analyse_query("BASE <http://x/>\nPREFIX a: <http://y#>\nASK {}").form == "ASK"
    assert analyse_query("prefix a: <urn:a>\ninsert data { a:b a:c a:d }").is_update
    assert not analyse_query("SELECT * WHERE { ?s <http://x/SERVICE> 'SERVICE' }").uses_service
    assert analyse_query("SELECT * WHERE { service <urn:x> { ?s ?p ?o } }").uses_service
    assert analyse_query("CONSTRUCT WHERE { ?s ?p ?o }").returns_graph


def test_open_store_from_graphs_and_empty():
    graph = Graph()
    graph.add((URIRef("urn:a"), URIRef("urn:p"), Literal("x", lang="fr")))
    graph.add((BNode("b1"), URIRef("urn:p"), Literal(3)))
    for backend in BACKENDS:
        store = open_store(graph, backend=backend)
        rows = store.query("SELECT ?o WHERE { ?s <urn:p> ?o } ORDER BY ?o").rows()
        assert sorted(map(str, (r[0] for r in rows))) == ["3", "x"]
        empty = open_store(None, backend=backend)
        assert len(empty) == 0
        assert empty.load(data="<urn:a> <urn:b> <urn:c> .", format="nt") == 1
    with pytest.raises(StoreError, match="unknown backend"):
        open_store(SAMPLE, backend="virtuoso")
    with pytest.raises(StoreError, match="no such store directory or RDF file"):
        open_store(DATA / "missing.ttl")


def test_build_store_then_open_read_only(tmp_path):
    target = tmp_path / "exports" / "store"
    meta = build_store(SAMPLE, target)
    assert meta["triples"] == len(Graph().parse(SAMPLE))
    assert meta["source"] == "sample_graph.ttl" and len(meta["source_sha256"]) == 64
    assert store_info(target) == meta
    first, second = open_store(target), open_store(target)  # read-only: several readers at once
    assert len(first) == len(second) == meta["triples"]
    assert first.read_only and first.backend == "oxigraph"
    with pytest.raises(StoreError, match="read-only"):
        first.load(data="<urn:a> <urn:b> <urn:c> .", format="nt")
    people = first.query(f"SELECT (COUNT(?p) AS ?n) WHERE {{ ?p a <{DG}Person> }}").rows()
    assert people == [(Literal("9", datatype=XSD.integer),)]
    assert sorted(p.name for p in target.parent.iterdir()) == ["store"]  # nothing left beside it


def test_rebuild_swaps_and_a_failed_build_keeps_the_previous_store(tmp_path):
    target = tmp_path / "store"
    build_store(SAMPLE, target)
    small = tmp_path / "small.nt"
    small.write_text("<urn:a> <urn:b> <urn:c> .\n<urn:a> <urn:b> <urn:d> .\n", encoding="utf-8")
    assert build_store(small, target)["triples"] == 2
    assert len(open_store(target)) == 2
    broken = tmp_path / "broken.ttl"
    broken.write_text("<urn:a> <urn:b> .\n", encoding="utf-8")
    with pytest.raises(StoreError, match="not valid"):
        build_store(broken, target)
    assert len(open_store(target)) == 2
    assert store_info(target)["source"] == "small.nt"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.ttl", "small.nt", "store"]


def test_an_interrupted_swap_is_repaired_on_open(tmp_path):
    target = tmp_path / "store"
    build_store(SAMPLE, target)
    os.rename(target, tmp_path / ".store.previous-1-1")  # as if a build died between its two renames
    assert len(open_store(target)) == len(Graph().parse(SAMPLE))
    assert target.is_dir()


def test_a_bare_oxigraph_directory_opens(tmp_path):
    raw = ox.Store(str(tmp_path / "raw"))
    raw.load("<urn:a> <urn:b> <urn:c> .", ox.RdfFormat.N_TRIPLES)
    raw.flush()
    del raw
    assert len(open_store(tmp_path / "raw")) == 1
    (tmp_path / "empty").mkdir()
    with pytest.raises(StoreError, match="not a diplograph store"):
        open_store(tmp_path / "empty")
    with pytest.raises(StoreError, match="only be opened with the oxigraph backend"):
        open_store(tmp_path / "raw", backend="rdflib")


def test_values_go_where_the_variable_is_used_and_nowhere_strings_or_comments_could_fool_it():
    from kg.store import where_groups, with_values

    text = ('PREFIX x: <http://e.org/{WHERE}#> # SELECT { WHERE {\n'
            'SELECT ?a (EXISTS { ?a ?p "}" } AS ?e) WHERE {\n'
            '  ?a x:p "WHERE { ?b }" .\n'
            '  { SELECT ?b WHERE { ?b x:q ?c } }\n'
            '  { SELECT ?c WHERE { ?c x:r 1 } }\n'
            '}')
    groups = where_groups(text)
    assert [top for *_, top in groups] == [True, False, False]
    bound = with_values(text, {"b": [URIRef("urn:b")]})
    assert bound.count("VALUES ?b { <urn:b> }") == 2  # the outer pattern and the sub-select that uses ?b
    assert "{ VALUES ?b { <urn:b> } ?b x:q ?c }" in bound and "{ ?c x:r 1 }" in bound
    only_top = with_values(text, {"b": [URIRef("urn:b")]}, everywhere=False)
    assert only_top.count("VALUES ?b") == 1
    assert with_values("ASK { ?s ?p ?o }", {"s": []}) == "ASK { VALUES ?s {  } ?s ?p ?o }"
    construct = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    assert with_values(construct, {"s": [Literal("a\"b")]}) == \
        'CONSTRUCT { ?s ?p ?o } WHERE { VALUES ?s { "a\\"b" } ?s ?p ?o }'
    with pytest.raises(QueryError):
        with_values("CONSTRUCT WHERE { ?s ?p ?o }", {"s": [URIRef("urn:a")]})
    with pytest.raises(QueryError):
        with_values("SELECT * WHERE { ?s ?p ?o }", {"s": [BNode()]})


def test_values_bind_a_set_on_both_engines():
    data = '<urn:a> <urn:p> "1" .\n<urn:b> <urn:p> "2" .\n<urn:c> <urn:p> "3" .\n'
    for backend in ("oxigraph", "rdflib"):
        store = open_store(None, backend=backend)
        store.load(data=data, format="nt")
        rows = store.query("SELECT ?s ?o WHERE { ?s <urn:p> ?o } ORDER BY ?s",
                           values={"s": [URIRef("urn:a"), URIRef("urn:c")]}).rows()
        assert [str(s) for s, _ in rows] == ["urn:a", "urn:c"], backend
        with pytest.raises(QueryError, match="no variable"):
            store.query("SELECT ?s WHERE { ?s ?p ?o }", values={"nope": [URIRef("urn:a")]})
