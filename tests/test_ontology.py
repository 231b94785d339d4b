"""The ontology, the topic and role schemes, their packaged copies, HermiT, and the inference rules."""

from __future__ import annotations

import csv
import importlib.util
import json
import shutil
import time
import unicodedata
from pathlib import Path

import pytest
import yaml
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SKOS, XSD

from kg import ontology, reasoning
from kg.iri import mint
from kg.vocab import DG, PREFIXES, ROLE_SCHEME, SCHEMA, SEM, TOPIC_SCHEME

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SAMPLE = DATA / "sample_graph_export.ttl"
LANGS = ("en", "ru", "mk", "ar")
ROLE_KEYS = """head-of-state monarch crown-prince vice-president head-of-government deputy-head-of-government
foreign-minister deputy-foreign-minister minister deputy-minister state-secretary ambassador
permanent-representative consul-general consul charge-d-affaires diplomat secretary-general
deputy-secretary-general director-general director head deputy-head chairperson deputy-chairperson
chairperson-in-office special-representative special-envoy high-commissioner commissioner speaker
deputy-speaker parliamentarian governor mayor party-secretary deputy-secretary spokesperson adviser
ombudsperson""".split()

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime: HermiT cannot run")

DG_TERMS = list(DG.__annotations__)
CLASSES = [
    t
    for t in DG_TERMS
    if t[0].isupper() and t not in ("InPerson", "PhoneCall", "VideoCall", "MultilateralSession")
]
MODES = ["InPerson", "PhoneCall", "VideoCall", "MultilateralSession"]
DATA_PROPERTIES = [
    "date", "quote", "startOffset", "endOffset", "roleLabel", "observedOn", "firstObserved", "lastObserved",
    "contentHash", "isoCode", "nameKey",
]  # fmt: skip
OBJECT_PROPERTIES = [t for t in DG_TERMS if t[0].islower() and t not in DATA_PROPERTIES]


@pytest.fixture(scope="module")
def onto() -> Graph:
    return ontology.ontology_graph()


@pytest.fixture(scope="module")
def core() -> Graph:
    return Graph().parse(ROOT / "ontology" / "diplograph.ttl", format="turtle")


def _gen_schemes():
    spec = importlib.util.spec_from_file_location("gen_schemes", ROOT / "tools" / "gen_schemes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the ontology file --------------------------------------------------------------------------------------


def test_ontology_defines_exactly_the_vocab_terms(core):
    defined = {str(s) for s in core.subjects() if isinstance(s, URIRef) and str(s).startswith(str(DG._NS))}
    assert defined == {str(DG[t]) for t in DG_TERMS}
    assert (URIRef("https://w3id.org/diplograph/ontology"), RDF.type, OWL.Ontology) in core
    assert not list(core.objects(None, OWL.imports)), "no owl:imports: the build runs offline"


@pytest.mark.parametrize("term", DG_TERMS)
def test_every_term_has_english_label_and_definition(core, term):
    labels = {lit.language for lit in core.objects(DG[term], RDFS.label)}
    assert "en" in labels
    definitions = [lit for lit in core.objects(DG[term], SKOS.definition) if lit.language == "en"]
    assert definitions and len(str(definitions[0])) > 15


@pytest.mark.parametrize("term", CLASSES)
def test_classes_are_labelled_in_four_languages(core, term):
    assert (DG[term], RDF.type, OWL.Class) in core
    labels = {lit.language: str(lit) for lit in core.objects(DG[term], RDFS.label)}
    assert set(LANGS) <= set(labels)
    assert (
        _script_ok(labels["ru"], "ru") and _script_ok(labels["mk"], "mk") and _script_ok(labels["ar"], "ar")
    )


def test_term_kinds(core):
    for term in OBJECT_PROPERTIES:
        assert (DG[term], RDF.type, OWL.ObjectProperty) in core, term
    for term in DATA_PROPERTIES:
        assert (DG[term], RDF.type, OWL.DatatypeProperty) in core, term
    for term in MODES:
        assert (DG[term], RDF.type, DG.MeetingMode) in core and (
            DG[term],
            RDF.type,
            OWL.NamedIndividual,
        ) in core


@pytest.mark.parametrize(
    "triple",
    [
        (DG.Meeting, RDFS.subClassOf, SEM.Event),
        (DG.Meeting, RDFS.subClassOf, SCHEMA.Event),
        (DG.PlannedMeeting, RDFS.subClassOf, SCHEMA.Event),
        (DG.Meeting, OWL.disjointWith, DG.PlannedMeeting),
        (DG.Person, RDFS.subClassOf, FOAF.Person),
        (DG.Person, RDFS.subClassOf, SCHEMA.Person),
        (DG.State, RDFS.subClassOf, SCHEMA.Country),
        (DG.State, RDFS.subClassOf, DG.Place),
        (DG.Organization, RDFS.subClassOf, ORG.Organization),
        (DG.Topic, RDFS.subClassOf, SKOS.Concept),
        (DG.Role, RDFS.subClassOf, ORG.Role),
        (DG.Post, RDFS.subClassOf, ORG.Post),
        (DG.Tenure, RDFS.subClassOf, ORG.Membership),
        (DG.Article, RDFS.subClassOf, SCHEMA.NewsArticle),
        (DG.Article, RDFS.subClassOf, PROV.Entity),
        (DG.Evidence, RDFS.subClassOf, PROV.Entity),
        (DG.City, RDFS.subClassOf, DG.Place),
        (DG.City, RDFS.subClassOf, SCHEMA.City),
        (DG.participant, RDFS.subPropertyOf, SEM.hasActor),
        (DG.participant, OWL.inverseOf, DG.participatesIn),
        (DG.participant, RDFS.range, DG.Actor),
        (DG.place, RDFS.subPropertyOf, SEM.hasPlace),
        (DG.topic, RDFS.subPropertyOf, DCTERMS.subject),
        (DG.inArticle, RDFS.subPropertyOf, PROV.wasDerivedFrom),
        (DG.affiliation, RDFS.subPropertyOf, ORG.memberOf),
        (DG.startOffset, RDFS.range, XSD.nonNegativeInteger),
        (DG.quote, RDFS.range, XSD.string),
        (DG.nameKey, RDFS.range, XSD.string),
        (DG.nameKey, RDFS.domain, DG.Actor),
    ],
)
def test_alignments(core, triple):
    assert triple in core


def test_actor_is_the_union_of_pairwise_disjoint_person_state_organization(core):
    union = next(core.objects(DG.Actor, OWL.equivalentClass))
    members = list(core.items(core.value(union, OWL.unionOf)))
    assert members == [DG.Person, DG.State, DG.Organization]
    disjoint_sets = [
        list(core.items(core.value(s, OWL.members))) for s in core.subjects(RDF.type, OWL.AllDisjointClasses)
    ]
    assert [DG.Person, DG.State, DG.Organization] in disjoint_sets


def test_date_range_is_left_open(core):
    assert not list(core.objects(DG.date, RDFS.range))
    definition = str(core.value(DG.date, SKOS.definition))
    assert "xsd:date" in definition and "xsd:gYearMonth" in definition and "xsd:gYear" in definition


def test_external_terms_are_declared(core):
    """Every class or property the ontology refers to is declared, so owlready2/HermiT read it on its own."""
    declared = set(core.subjects(RDF.type, None))
    used = set()
    for prop in (
        RDFS.subClassOf,
        RDFS.subPropertyOf,
        RDFS.domain,
        RDFS.range,
        OWL.inverseOf,
        OWL.disjointWith,
    ):
        for s, o in core.subject_objects(prop):
            used |= {n for n in (s, o) if isinstance(n, URIRef)}
    used -= {XSD.string, XSD.nonNegativeInteger}
    assert used - declared == set()


def test_jsonld_context_prefixes_match_vocab():
    context = json.loads((ROOT / "ontology" / "context.jsonld").read_text(encoding="utf-8"))["@context"]
    prefixes = {k: v for k, v in context.items() if isinstance(v, str)}
    assert prefixes == {k: str(v) for k, v in PREFIXES.items()}
    for key, definition in context.items():
        if isinstance(definition, dict):
            prefix, _, name = key.partition(":")
            assert prefix in prefixes and definition == {"@type": "@id"}, key


# --- the schemes --------------------------------------------------------------------------------------------


def _script_ok(text: str, lang: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    script = {"ru": "CYRILLIC", "mk": "CYRILLIC", "ar": "ARABIC", "en": "LATIN"}[lang]
    if not letters or not all(script in unicodedata.name(c) for c in letters):
        return False
    if lang == "mk" and set(text.lower()) & set("ыэъёщй"):
        return False  # Russian letters in Macedonian
    if lang == "ru" and set(text.lower()) & set("јљњѓќѕџ"):
        return False  # Macedonian letters in Russian
    return True


def _tsv_rows():
    with open(ROOT / "ontology" / "topics.tsv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_topics_yaml_agrees_with_the_given_scheme():
    rows = _tsv_rows()
    data = yaml.safe_load((ROOT / "kg" / "data" / "topics.yaml").read_text(encoding="utf-8"))
    assert len(rows) == 31
    assert list(data) == [row["notation"] for row in rows]
    for row in rows:
        entry = data[row["notation"]]
        assert entry["en"] == row["label_en"] and entry["scope"] == row["scope"]
        for lang in LANGS:
            assert _script_ok(entry[lang], lang), (row["notation"], lang, entry[lang])


def test_topics_ttl_has_31_notations_labelled_in_four_languages(onto):
    rows = {row["notation"]: row for row in _tsv_rows()}
    topics = set(onto.subjects(RDF.type, DG.Topic))
    assert {str(onto.value(t, SKOS.notation)) for t in topics} == set(rows)
    assert len(topics) == 31
    assert (TOPIC_SCHEME, RDF.type, SKOS.ConceptScheme) in onto
    for topic in topics:
        notation = str(onto.value(topic, SKOS.notation))
        assert topic == mint("topic", notation)
        assert (topic, RDF.type, SKOS.Concept) in onto
        assert (topic, SKOS.inScheme, TOPIC_SCHEME) in onto and (
            topic,
            SKOS.topConceptOf,
            TOPIC_SCHEME,
        ) in onto
        labels = {lit.language: str(lit) for lit in onto.objects(topic, SKOS.prefLabel)}
        assert set(labels) == set(LANGS)
        assert labels["en"] == rows[notation]["label_en"]
        assert onto.value(topic, SKOS.scopeNote) == Literal(rows[notation]["scope"], lang="en")


def test_roles_ttl_has_every_role_key_labelled_in_four_languages(onto):
    roles = set(onto.subjects(RDF.type, DG.Role))
    assert {str(onto.value(r, SKOS.notation)) for r in roles} == set(ROLE_KEYS)
    for role in roles:
        assert role == mint("role", str(onto.value(role, SKOS.notation)))
        assert {
            (role, RDF.type, ORG.Role),
            (role, RDF.type, SKOS.Concept),
            (role, SKOS.inScheme, ROLE_SCHEME),
        } <= set(onto.triples((role, None, None)))
        labels = {lit.language for lit in onto.objects(role, SKOS.prefLabel)}
        assert labels == set(LANGS)


def test_title_lexicons_use_only_scheme_roles():
    keys = set(yaml.safe_load((ROOT / "kg" / "data" / "roles.yaml").read_text(encoding="utf-8")))
    for path in sorted((ROOT / "kg" / "data" / "lang").glob("*/titles.yaml")):
        used = set((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("roles") or {})
        assert used <= keys, (path, used - keys)


def test_generated_and_packaged_files_are_current():
    gen = _gen_schemes()
    expected = gen.expected_files()
    assert len(expected) == 7
    stale = [str(path.relative_to(ROOT)) for path, data in expected.items() if path.read_bytes() != data]
    assert stale == [], "run: .venv/bin/python tools/gen_schemes.py"


def test_generation_is_deterministic():
    gen = _gen_schemes()
    assert gen.expected_files() == gen.expected_files()


def test_gen_schemes_rejects_a_missing_label(tmp_path):
    gen = _gen_schemes()
    bad = tmp_path / "roles.yaml"
    bad.write_text("ambassador: {en: Ambassador, ru: посол, mk: амбасадор}\n", encoding="utf-8")
    with pytest.raises(gen.SchemeError, match="ambassador: no label in ar"):
        gen.roles_graph(bad)


def test_ontology_graph_holds_three_files_and_is_a_fresh_copy():
    first = ontology.ontology_graph()
    assert (DG.Meeting, RDF.type, OWL.Class) in first
    assert (mint("topic", "security"), RDF.type, DG.Topic) in first
    assert (mint("role", "ambassador"), RDF.type, DG.Role) in first
    first.remove((DG.Meeting, None, None))
    assert (DG.Meeting, RDF.type, OWL.Class) in ontology.ontology_graph()


def test_with_ontology_adds_it_once():
    data = Graph().parse(SAMPLE)
    merged = ontology.with_ontology(data)
    assert ontology.has_ontology(merged) and not ontology.has_ontology(data)
    assert len(ontology.with_ontology(merged)) == len(merged)


# --- owlready2 and HermiT -----------------------------------------------------------------------------------


def test_owlready2_loads_the_ontology(tmp_path):
    import owlready2

    path = tmp_path / "onto.nt"
    path.write_bytes(ontology.ontology_graph().serialize(format="nt", encoding="utf-8"))
    world = owlready2.World()
    onto = world.get_ontology("https://w3id.org/diplograph/ontology").load(
        fileobj=open(path, "rb"), format="ntriples"
    )
    assert onto is not None
    meeting = world[str(DG.Meeting)]
    assert meeting is not None and world[str(SEM.Event)] in meeting.is_a
    assert world[str(DG.participant)].inverse_property == world[str(DG.participatesIn)]
    security = world[str(mint("topic", "security"))]
    assert security is not None and world[str(DG.Topic)] in security.is_a
    assert world[str(DG.Role)] in world[str(mint("role", "ambassador"))].is_a


@needs_java
def test_hermit_finds_the_ontology_consistent_and_coherent():
    started = time.perf_counter()
    result = reasoning.check_consistency(Graph())
    elapsed = time.perf_counter() - started
    assert result.status == "consistent", result.text()
    assert result.consistent is True and result.unsatisfiable == []
    assert elapsed < 60
    print(f"HermiT on the ontology alone: {result.seconds:.2f} s ({result.triples} triples)")


@needs_java
def test_hermit_finds_the_sample_consistent():
    result = reasoning.check_consistency(Graph().parse(SAMPLE))
    assert result.consistent is True and result.coherent, result.text()


@needs_java
def test_hermit_reports_an_inconsistency_with_its_cause():
    data = Graph().parse(SAMPLE)
    meeting = URIRef("https://w3id.org/diplograph/id/meeting/cd277485e70880b6")
    data.add((meeting, RDF.type, DG.PlannedMeeting))  # disjoint with dg:Meeting
    result = reasoning.check_consistency(data)
    assert result.status == "inconsistent" and result.consistent is False
    text = result.text()
    assert (
        "dgid:meeting/cd277485e70880b6 is both dg:Meeting and dg:PlannedMeeting, which are disjoint" in text
    )


def test_consistency_check_is_skipped_without_java(monkeypatch):
    import owlready2

    monkeypatch.setattr(owlready2, "JAVA_EXE", "/nonexistent/java-for-this-test")
    result = reasoning.check_consistency(Graph())
    assert result.status == "skipped" and result.consistent is None
    assert "no Java runtime" in result.text()


def test_diagnosis_without_a_reasoner():
    data = ontology.with_ontology(Graph().parse(SAMPLE))
    evidence = URIRef("https://w3id.org/diplograph/id/evidence/514bfff66750c1a7")
    person = URIRef("https://w3id.org/diplograph/id/person/8b2d99f63af73709")
    data.add((evidence, DG.startOffset, Literal(-5)))
    data.add((person, RDF.type, DG.State))
    lines = reasoning.diagnose(data)
    assert "dgid:person/8b2d99f63af73709 is both dg:Person and dg:State, which are disjoint" in lines
    assert any(
        "dgid:evidence/514bfff66750c1a7 has 2 values of functional property dg:startOffset" in x
        for x in lines
    )
    assert any("dg:startOffset '-5' is not a non-negative integer" in x for x in lines)


# --- inference rules ----------------------------------------------------------------------------------------

M_BORG = URIRef("https://w3id.org/diplograph/id/meeting/cd277485e70880b6")
M_PHONE = URIRef("https://w3id.org/diplograph/id/meeting/c1b51bcf2870bc4e")
NURTLEU = URIRef("https://w3id.org/diplograph/id/person/a2f5a7477e585241")


def test_rules_are_sparql_construct_files():
    names = [path.name for path in reasoning.rule_files()]
    assert names == sorted(names) and len(names) >= 7
    for path in reasoning.rule_files():
        assert "CONSTRUCT" in path.read_text(encoding="utf-8")


def test_inferred_graph_materialises_what_analysts_need():
    data = Graph().parse(SAMPLE)
    inferred = reasoning.inferred_graph(data)
    assert (NURTLEU, DG.participatesIn, M_BORG) in inferred
    assert (NURTLEU, DG.participatesIn, M_PHONE) in inferred
    assert (M_BORG, SEM.hasActor, mint("state", "KZ")) in inferred  # through the participant's affiliation
    assert (M_BORG, SEM.hasActor, mint("state", "MT")) in inferred
    assert (M_BORG, SEM.hasPlace, mint("state", "KZ")) in inferred  # Astana lies in Kazakhstan
    assert (M_BORG, DCTERMS.subject, mint("topic", "trade")) in inferred
    assert (NURTLEU, ORG.memberOf, mint("state", "KZ")) in inferred
    assert (
        NURTLEU,
        DG.possiblySame,
        URIRef("https://w3id.org/diplograph/id/person/a92c2521c50db5f4"),
    ) in inferred
    assert (NURTLEU, RDF.type, DG.Actor) in inferred and (NURTLEU, RDF.type, FOAF.Person) in inferred
    assert (M_BORG, RDF.type, SEM.Event) in inferred
    # dg:participant is never polluted: a state takes part only in the wider sem:hasActor sense
    assert not list(inferred.triples((None, DG.participant, None)))
    assert not any(t in data for t in inferred), "only new facts"


@needs_java
def test_rules_agree_with_hermit():
    check = reasoning.hermit_cross_check(Graph().parse(SAMPLE))
    assert check.result.consistent is True, check.result.text()
    assert check.only_rules == set() and check.only_hermit == set()
    assert check.agree
