"""``dg:nameKey``: one plain literal per distinct lower-cased name of every person, state and organisation,
so that a case-insensitive name lookup is an index hit (``?actor dg:nameKey "lavrov"``)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS, XSD

from kg.rdf import ACTOR_CLASSES, NAME_PREDICATES, add_name_keys, name_key
from kg.serialize import turtle_bytes
from kg.store import open_store
from kg.vocab import DG, ID

from .test_cases import build_case

CASES = Path(__file__).parent / "cases"
# a Russian article with an inflected (genitive) form of a Lao name, and Laos, Iraq, Russia in four scripts
RU_CASE = CASES / "ru-oblique-foreign-name"
# an Arabic article with an organisation (the African Union) among the actors
AR_CASE = CASES / "ar-protagonist-bahth"


def _keys(graph: Graph) -> dict:
    found: dict = defaultdict(set)
    for s, _, o in graph.triples((None, DG.nameKey, None)):
        found[s].add(o)
    return found


def _expected(graph: Graph) -> dict:
    """The rule, written out again: every actor's label, prefLabel, altLabel and ISO code, lower-cased."""
    expected: dict = defaultdict(set)
    for cls in (DG.Person, DG.State, DG.Organization):
        for actor in graph.subjects(RDF.type, cls):
            for p in (RDFS.label, SKOS.prefLabel, SKOS.altLabel, DG.isoCode):
                for value in graph.objects(actor, p):
                    expected[actor].add(Literal(str(value).lower()))
    return expected


def _build(paths) -> Graph:
    from kg.extract import extract
    from kg.ingest import read_document
    from kg.pipeline import to_graph

    return to_graph([extract(read_document(path)) for path in paths])


@pytest.fixture(scope="module")
def articles(tmp_path_factory) -> list[Path]:
    """The two case articles under distinct names (an article's id is its file name)."""
    folder = tmp_path_factory.mktemp("name-key")
    paths = [folder / "ru.txt", folder / "ar.txt"]
    for path, case in zip(paths, (RU_CASE, AR_CASE), strict=True):
        path.write_bytes((case / "article.txt").read_bytes())
    return paths


@pytest.fixture(scope="module")
def case_graph(articles) -> Graph:
    return _build(articles)


def test_the_actor_classes_and_name_predicates():
    assert ACTOR_CLASSES == (DG.Person, DG.State, DG.Organization)
    assert NAME_PREDICATES == (RDFS.label, SKOS.prefLabel, SKOS.altLabel, DG.isoCode)


def test_every_actor_has_exactly_its_lower_cased_names(case_graph, seed_graph):
    for graph in (case_graph, seed_graph):
        keys, expected = _keys(graph), _expected(graph)
        assert keys == expected
        kinds = {cls for actor in keys for cls in graph.objects(actor, RDF.type)}
        assert {DG.Person, DG.State, DG.Organization} <= kinds


def test_name_keys_are_plain_strings_and_only_on_actors(case_graph, seed_graph):
    for graph in (case_graph, seed_graph):
        for s, _, o in graph.triples((None, DG.nameKey, None)):
            assert isinstance(o, Literal) and o.language is None and o.datatype in (None, XSD.string)
            assert o == Literal(str(o).lower())
            assert any((s, RDF.type, cls) in graph for cls in ACTOR_CLASSES)
        for city in graph.subjects(RDF.type, DG.City):
            assert (city, DG.nameKey, None) not in graph


def test_inflected_and_other_script_labels_give_their_own_keys(case_graph):
    lao = next(case_graph.subjects(RDFS.label, Literal("Кхамсай Ванна Тхоя")))
    assert set(case_graph.objects(lao, DG.nameKey)) == {Literal("кхамсай ванна тхой"), Literal("кхамсай ванна тхоя")}
    laos = URIRef(ID + "state/LA")
    keys = {str(k) for k in case_graph.objects(laos, DG.nameKey)}
    assert {"laos", "la", "лаос"} <= keys
    assert any(k.isascii() is False and "\u0600" <= k[0] <= "\u06ff" for k in keys), keys  # an Arabic key
    union = URIRef(ID + "org/african-union")
    assert {"african union", "au", "африканский союз"} <= {str(k) for k in case_graph.objects(union, DG.nameKey)}


def test_case_and_duplicates_collapse_to_one_key_and_nothing_else_changes():
    g = Graph()
    lavrov, moscow = URIRef(ID + "person/x"), URIRef(ID + "city/moscow")
    g.add((lavrov, RDF.type, DG.Person))
    g.add((lavrov, RDFS.label, Literal("Sergey LAVROV")))
    g.add((lavrov, SKOS.prefLabel, Literal("Sergey Lavrov", lang="en")))
    g.add((lavrov, SKOS.altLabel, Literal("Сергея  Лаврова", lang="ru")))  # two spaces: kept as they are
    g.add((lavrov, DG.roleLabel, Literal("Minister")))  # not a name
    g.add((moscow, RDF.type, DG.City))
    g.add((moscow, RDFS.label, Literal("Moscow", lang="en")))  # a city is not an actor
    add_name_keys(g)
    assert set(g.objects(lavrov, DG.nameKey)) == {Literal("sergey lavrov"), Literal("сергея  лаврова")}
    assert not list(g.objects(moscow, DG.nameKey))
    before = turtle_bytes(g)
    assert turtle_bytes(add_name_keys(g)) == before  # a second pass adds nothing
    assert name_key(Literal("Ἐλλάς")) == "ἐλλάς"


def test_same_bytes_from_two_builds_of_the_case_graph(articles, case_graph):
    assert turtle_bytes(_build(reversed(articles))) == turtle_bytes(case_graph)
    assert turtle_bytes(build_case(RU_CASE)) == (RU_CASE / "expected.ttl").read_bytes()


@pytest.mark.parametrize("backend", ["oxigraph", "rdflib"])
def test_a_key_looked_up_in_the_store_returns_the_actor(case_graph, backend):
    store = open_store(case_graph, backend=backend)
    query = "PREFIX dg: <https://w3id.org/diplograph/ontology#> SELECT ?actor WHERE {{ ?actor dg:nameKey {} }}"
    lao = next(case_graph.subjects(RDFS.label, Literal("Кхамсай Ванна Тхоя")))
    for key, actor in [("кхамсай ванна тхоя", lao), ("кхамсай ванна тхой", lao), ("la", URIRef(ID + "state/LA")),
                       ("au", URIRef(ID + "org/african-union"))]:
        rows = store.query(query.format(Literal(key).n3())).rows()
        assert rows == [(actor,)], (key, rows)
    assert store.query(query.format('"Кхамсай Ванна Тхоя"')).rows() == []  # keys are lower case


def test_keys_equal_sparql_lcase_of_the_names(seed_graph):
    """The index answers what ``LCASE(STR(?label)) = LCASE(?name)`` over the names answers, on Oxigraph."""
    store = open_store(seed_graph, backend="oxigraph")
    lcase = store.query("""PREFIX dg: <https://w3id.org/diplograph/ontology#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT DISTINCT ?actor ?key WHERE {
          VALUES ?class { dg:Person dg:State dg:Organization }
          ?actor a ?class ; rdfs:label|skos:prefLabel|skos:altLabel|dg:isoCode ?name .
          BIND(LCASE(STR(?name)) AS ?key)
        }""").rows()
    indexed = store.query("""PREFIX dg: <https://w3id.org/diplograph/ontology#>
        SELECT ?actor ?key WHERE { ?actor dg:nameKey ?key }""").rows()
    assert len(indexed) == len(set(indexed)) > 0
    assert set(indexed) == set(lcase)
