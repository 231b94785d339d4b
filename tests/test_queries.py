"""Every query of queries/ on the sample graph (both engines) and on the seed graph; the command."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shlex
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

import kg.cli
from kg.errors import QueryError
from kg.iri import mint
from kg.query import (
    list_queries,
    parse_header,
    parse_param_value,
    queries_dir,
    resolve_query_arg,
    resolve_query_name,
    result_text,
    run_named,
)
from kg.store import build_store, open_store

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "sample_graph.ttl"
QUERY_FILES = sorted(p.stem for p in (ROOT / "queries").glob("*.rq"))
MEETINGS_COLUMNS = [
    "meeting",
    "article",
    "date",
    "participant",
    "participantType",
    "participantLabel",
    "topic",
    "topicNotation",
]


def person(name: str) -> URIRef:
    return mint("person", name)


def example_bindings(named) -> dict:
    """The ``--param`` values of a query's ``Example:`` line, as RDF terms."""
    bindings = {}
    for example in named.examples[:1]:
        words = shlex.split(example)
        for i, word in enumerate(words):
            if word in ("--param", "-p"):
                name, _, value = words[i + 1].partition("=")
                bindings[name] = parse_param_value(value)
    return bindings


def normalised(rows) -> list[tuple]:
    """Rows as comparable strings; GROUP_CONCAT values (whose order SPARQL leaves open) sorted."""
    out = []
    for row in rows:
        cells = []
        for term in row:
            text = "" if term is None else str(term)
            if "; " in text:
                text = "; ".join(sorted(text.split("; ")))
            elif re.fullmatch(r"[a-z-]+( [a-z-]+)+", text):
                text = " ".join(sorted(text.split(" ")))
            cells.append(text)
        out.append(tuple(cells))
    return sorted(out)


def same_answers(name: str, oxigraph_rows: list[tuple], rdflib_rows: list[tuple]) -> bool:
    """Equal rows; for meetings.rq equal sets: its label path ``skos:prefLabel|skos:altLabel|rdfs:label``
    reaches one label twice for some actors, which rdflib repeats (the spec's bag semantics) and Oxigraph
    does not."""
    if name == "meetings":
        return set(oxigraph_rows) == set(rdflib_rows)
    return oxigraph_rows == rdflib_rows


@pytest.fixture(scope="module")
def stores():
    return {backend: open_store(SAMPLE, backend=backend) for backend in ("oxigraph", "rdflib")}


def run(stores, name, backend="oxigraph", **params):
    named = resolve_query_name(name)
    bindings = {key: parse_param_value(value) for key, value in params.items()}
    result = run_named(stores[backend], named, bindings)
    return [
        dict(zip(result.variables, (None if t is None else str(t) for t in row), strict=True))
        for row in result
    ]


# ------------------------------------------------------------------------------------------
# Every file, both engines
# ------------------------------------------------------------------------------------------


def test_there_are_at_least_twelve_documented_queries_besides_meetings():
    assert len(QUERY_FILES) >= 13
    for named in list_queries():
        assert named.title and named.answers, f"{named.name}: header lacks a title or an Answers: line"
        assert named.examples and named.examples[0].startswith(f"diplograph query {named.name}"), named.name
        variables = set(re.findall(r"[?$](\w+)", named.text.split("\n", 1)[1]))
        for param in named.params:
            assert param.name in variables, f"{named.name}: documented ?{param.name} is not in the query"


@pytest.mark.parametrize("name", QUERY_FILES)
def test_every_query_gives_results_and_both_engines_agree(stores, name):
    named = resolve_query_name(name)
    bindings = example_bindings(named)
    results = {}
    for backend, store in stores.items():
        result = run_named(store, named, bindings)
        results[backend] = (result.kind, result.variables, normalised(result))
    assert same_answers(name, results["oxigraph"][2], results["rdflib"][2])
    assert results["oxigraph"][:2] == results["rdflib"][:2]
    kind, _, rows = results["oxigraph"]
    assert rows, f"{name} with {bindings} found nothing on the sample graph"


def test_meetings_keeps_the_scorer_columns(stores):
    result = run_named(stores["oxigraph"], resolve_query_name("meetings"))
    assert result.variables == MEETINGS_COLUMNS
    rows = result.dicts()
    assert {str(r["participantType"]).rsplit("#", 1)[1] for r in rows} == {"Person", "State", "Organization"}
    assert any(
        r["article"] == Literal("002_d8447541c7744ffc") and r["participantLabel"] == Literal("Ian Borg")
        for r in rows
    )


# ------------------------------------------------------------------------------------------
# What each query answers, on the sample graph
# ------------------------------------------------------------------------------------------


def test_who_met_whom(stores):
    rows = run(stores, "who-met-whom")
    pairs = {(r["partyALabel"], r["partyBLabel"]) for r in rows}
    assert ("Ian Borg", "Murat Nurtleu") in pairs
    assert ("China", "Kazakhstan") in pairs
    borg = next(r for r in rows if r["partyBLabel"] == "Murat Nurtleu" and r["partyALabel"] == "Ian Borg")
    assert borg["date"] == "2024-06-26" and borg["mode"] == "InPerson" and borg["placeLabel"] == "Astana"
    assert set(borg["topics"].split()) == {"multilateral", "terrorism", "drug-trafficking"}
    assert borg["article"] == "002_d8447541c7744ffc"
    assert len([r for r in rows if r["article"] == "013_9d8c7b6a5f4e3d04"]) == 10  # 5 parties: 10 pairs
    assert not any("Saudi Arabia" in (r["partyALabel"], r["partyBLabel"]) for r in rows)  # planned only
    in_2024 = run(stores, "who-met-whom", **{"from": "2024-01-01", "to": "2024-12-31"})
    assert {r["date"] for r in in_2024} == {"2024-06", "2024-06-26", "2024-06-28", "2024-09"}
    assert all(r["from"] == "2024-01-01" for r in in_2024)
    late = run(stores, "who-met-whom", **{"from": "2024-09-15"})  # the month 2024-09 overlaps it
    assert [(r["partyALabel"], r["partyBLabel"]) for r in late] == [("Murat Nurtleu", "Timčo Mucunski")]


def test_meetings_of_actor_by_name_iri_and_state(stores):
    by_name = run(stores, "meetings-of-actor", actor="murat NURTLEU")
    by_iri = run(stores, "meetings-of-actor", actor=f"<{person('Murat Nurtleu')}>")
    assert {r["meeting"] for r in by_name} == {r["meeting"] for r in by_iri}
    assert len(by_name) == 5 and all(r["how"] == "participant" for r in by_name)
    by_alt_label = run(stores, "meetings-of-actor", actor="Мурат Нуртлеу")
    assert {r["meeting"] for r in by_alt_label} == {r["meeting"] for r in by_name}
    kazakhstan = run(stores, "meetings-of-actor", actor="KZ")
    hows = {r["meetingLabel"]: r["how"] for r in kazakhstan}
    assert hows["China – Kazakhstan, 2024-06"] == "participant"
    assert hows["Murat Nurtleu – Ian Borg, 2024-06-26"] == "affiliation"
    assert len(kazakhstan) == 7
    assert run(stores, "meetings-of-actor", actor="Nobody Atall") == []


def test_meetings_between_persons_and_states(stores):
    rows = run(stores, "meetings-between", a="Murat Nurtleu", b="Alexander Schallenberg")
    assert [r["date"] for r in rows] == ["2023-11-30", "2024-06-28"]
    states = run(stores, "meetings-between", a="Kazakhstan", b="MT")
    assert {r["meetingLabel"] for r in states} == {
        "Murat Nurtleu – Ian Borg, 2024-06-26",
        "Kassym-Jomart Tokayev – Ian Borg, 2024-06-26",
    }
    assert run(stores, "meetings-between", a="Ian Borg", b="Sergey Lavrov") == []


def test_meetings_on_topic_in_period(stores):
    security = run(stores, "meetings-on-topic-in-period", topic="security")
    assert [r["date"] for r in security] == ["2023-03-15", "2023-11-30"]
    late_2023 = run(stores, "meetings-on-topic-in-period", topic="topic:security", **{"from": "2023-06-01"})
    assert [r["date"] for r in late_2023] == ["2023-11-30"]
    assert "Bujar Osmani" in late_2023[0]["participants"]


def test_timeline_by_month(stores):
    rows = run(stores, "timeline-by-month")
    assert [(r["month"], r["meetings"]) for r in rows] == [
        ("2023-03", "1"),
        ("2023-11", "2"),
        ("2024-06", "4"),
        ("2024-09", "1"),
    ]
    june = next(r for r in rows if r["month"] == "2024-06")
    assert june["inPersonMeetings"] == "4" and june["calls"] == "0"
    assert [r["month"] for r in run(stores, "timeline-by-month", **{"from": "2024-06-30"})] == [
        "2024-06",
        "2024-09",
    ]


def test_most_active_actors(stores):
    rows = run(stores, "most-active-actors")
    assert (rows[0]["actorLabel"], rows[0]["meetings"], rows[0]["counterparts"]) == (
        "Murat Nurtleu",
        "5",
        "7",
    )
    assert rows[0]["firstMeeting"] == "2023-11-02" and rows[0]["lastMeeting"] == "2024-09"
    schallenberg = next(r for r in rows if r["actorLabel"] == "Alexander Schallenberg")
    assert schallenberg["firstMeeting"] == "2023-11-30"  # his undated meeting does not hide the dates


def test_state_interactions(stores):
    rows = run(stores, "state-interactions")
    counts = {(r["stateALabel"], r["stateBLabel"]): int(r["meetings"]) for r in rows}
    assert counts[("Kazakhstan", "Malta")] == 2
    assert counts[("China", "Kazakhstan")] == 1  # states as participants
    assert counts[("North Macedonia", "Russia")] == 2
    assert all(a < b for a, b in counts)
    malta = run(stores, "state-interactions", state="Malta")
    assert {(r["stateALabel"], r["stateBLabel"]) for r in malta} == {
        ("Kazakhstan", "Malta"),
        ("Austria", "Malta"),
    }


@pytest.mark.parametrize("backend", ["oxigraph", "rdflib"])
def test_state_interactions_of_one_state_agree_with_every_pair(stores, backend):
    """Every pair of states is counted once (in the order of their IRIs when no state is given, both ways
    round when one is), and the pairs of one state are the network's pairs that involve it, with the same
    counts and dates."""
    network = run(stores, "state-interactions", backend)
    pairs = [(r["stateA"], r["stateB"]) for r in network]
    assert len(pairs) == len(set(pairs)) and not any((b, a) in set(pairs) for a, b in pairs)
    states = {state for pair in pairs for state in pair}
    assert len(states) > 3
    for state in sorted(states):
        mine = run(stores, "state-interactions", backend, state=state)
        expected = [r for r in network if state in (r["stateA"], r["stateB"])]
        assert [{k: v for k, v in r.items() if k != "state"} for r in mine] == \
            [{k: v for k, v in r.items() if k != "state"} for r in expected], state


def test_posts_of_person(stores):
    rows = run(stores, "posts-of-person", person="Murat Nurtleu")
    assert [(r["role"], r["firstObserved"], r["lastObserved"]) for r in rows] == [
        ("presidential-aide", "2023-01-10", "2023-03-15"),
        ("foreign-minister", "2023-11-02", "2024-09-12"),
    ]
    assert rows[1]["organizationLabel"] == "Kazakhstan" and rows[1]["observations"] == "5"


def test_post_holder_on_date(stores):
    def holder(state, date):
        rows = run(stores, "post-holder-on-date", role="foreign-minister", state=state, date=date)
        return [(r["holderLabel"], r["status"]) for r in rows]

    assert holder("MK", "2023-06-01") == [("Bujar Osmani", "observed")]
    assert holder("North Macedonia", "2024-06-01") == [("Bujar Osmani", "presumed")]
    assert holder("mk", "2024-10-01") == [("Timčo Mucunski", "presumed")]
    assert holder("KZ", "2024-06-26") == [("Murat Nurtleu", "observed")]
    assert holder("MK", "2022-01-01") == []


POST_HOLDER_TITLES = """
PREFIX dg: <https://w3id.org/diplograph/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
<urn:p> rdfs:label "Ana Holder" .
<urn:kz> dg:isoCode "KZ" ; dg:nameKey "kz" .
<urn:t1> a dg:Tenure ; org:member <urn:p> ; org:role <https://w3id.org/diplograph/role/foreign-minister> ;
    org:organization <urn:kz> ; dg:roleLabel "Foreign Minister"@en, "министр иностранных дел"@ru ;
    dg:observedOn "2024-01-05"^^xsd:date, "2024-03-01"^^xsd:date, "2024-09-10"^^xsd:date ;
    dg:firstObserved "2024-01-05"^^xsd:date ; dg:lastObserved "2024-09-10"^^xsd:date .
<urn:t2> a dg:Tenure ; org:member <urn:p> ; org:role <https://w3id.org/diplograph/role/foreign-minister> ;
    org:organization <urn:kz> ; dg:observedOn "2024-05-02"^^xsd:date ;
    dg:firstObserved "2024-05-02"^^xsd:date ; dg:lastObserved "2024-05-02"^^xsd:date .
"""


@pytest.mark.parametrize("backend", ["oxigraph", "rdflib"])
def test_post_holder_titles_are_every_label_of_the_dated_tenures_once(backend):
    """Titles are read on one date row of each tenure (not multiplied by its dates): each label once, and a
    tenure without a label adds no empty title."""
    graph = Graph().parse(data=POST_HOLDER_TITLES, format="turtle")
    store = open_store(graph, backend=backend)
    bindings = {"role": Literal("foreign-minister"), "state": Literal("kz"),
                "date": Literal("2024-06-01", datatype=XSD.date)}
    rows = list(run_named(store, resolve_query_name("post-holder-on-date"), bindings))
    assert len(rows) == 1
    values = [None if t is None else str(t) for t in rows[0]]
    assert values[3:7] == ["Ana Holder", "observed", "2024-05-02", "2024-09-10"]
    assert sorted(values[7].split("; ")) == ["Foreign Minister", "министр иностранных дел"]


def test_meeting_evidence(stores):
    rows = run(stores, "meeting-evidence", article="002_d8447541c7744ffc")
    assert [(r["startOffset"], r["endOffset"]) for r in rows] == [("40", "168"), ("612", "673")]
    assert rows[0]["quote"].startswith("Deputy Prime Minister") and rows[0]["language"] == "en"
    assert len(run(stores, "meeting-evidence")) == 10


def test_new_contacts_in_period(stores):
    rows = run(stores, "new-contacts-in-period", **{"from": "2024-01-01", "to": "2024-12-31"})
    pairs = {(r["partyALabel"], r["partyBLabel"]) for r in rows}
    assert pairs == {
        ("China", "Kazakhstan"),
        ("Ian Borg", "Kassym-Jomart Tokayev"),
        ("Ian Borg", "Murat Nurtleu"),
        ("Murat Nurtleu", "Timčo Mucunski"),
    }
    assert ("Alexander Schallenberg", "Murat Nurtleu") not in pairs  # they met in Skopje in 2023


def test_topics_of_dyad(stores):
    rows = run(stores, "topics-of-dyad", a="Alexander Schallenberg", b="Murat Nurtleu")
    assert {r["notation"] for r in rows} == {"energy", "water", "multilateral", "security"}
    assert next(r for r in rows if r["notation"] == "energy")["topicLabel"] == "Energy"


@pytest.mark.parametrize("backend", ["oxigraph", "rdflib"])
def test_search_actors_counts_each_actors_meetings_once(stores, backend):
    """search-actors counts an actor's meetings apart from its labels: as many as the meetings it took part
    in (planned ones not counted), whatever number of its labels matched, and 0 for an actor in none."""
    rows = run(stores, "search-actors", backend, text="a")
    assert len(rows) > 10
    counts = {}
    for row in rows:
        answer = stores[backend].query(
            "PREFIX dg: <https://w3id.org/diplograph/ontology#> SELECT (COUNT(DISTINCT ?m) AS ?n) "
            f"WHERE {{ ?m dg:participant <{row['actor']}> ; a dg:Meeting }}")
        counts[row["actor"]] = (row["meetings"], str(next(iter(answer))[0]))
    assert all(found == expected for found, expected in counts.values()), counts
    assert any(found == "0" for found, _ in counts.values()) and any(int(found) > 1 for found, _ in counts.values())
    assert any(len(row["matchedLabels"].split("; ")) > 1 for row in rows)


def test_search_places_articles_planned_possibly_same_summary(stores):
    found = run(stores, "search-actors", text="Лавров")
    assert [r["actorLabel"] for r in found] == ["Sergey Lavrov"]
    assert {r["actorLabel"] for r in run(stores, "search-actors", text="nurtleu")} == {
        "Murat Nurtleu",
        "M. Nurtleu",
    }
    places = {r["placeLabel"]: r["meetings"] for r in run(stores, "places")}
    assert places == {"Astana": "2", "Riyadh": "1", "Skopje": "1", "Vienna": "1"}
    arabic = run(stores, "articles", language="ar")
    assert [(r["article"], r["meetings"], r["plannedMeetings"]) for r in arabic] == [
        ("012_3c4d5e6f7a8b9c03", "1", "1")
    ]
    planned = run(stores, "planned-meetings")
    assert len(planned) == 1 and planned[0]["date"] == "2024"
    same = run(stores, "possibly-same")
    assert [(r["labelA"], r["labelB"]) for r in same] == [("M. Nurtleu", "Murat Nurtleu")]
    summary = {r["class"].rsplit("#", 1)[-1]: int(r["instances"]) for r in run(stores, "graph-summary")}
    assert summary["Meeting"] == 9 and summary["Person"] == 9 and summary["PlannedMeeting"] == 1


@pytest.mark.parametrize("backend", ["oxigraph", "rdflib"])
def test_possibly_same_reads_each_person_once_with_its_meetings(stores, backend):
    """possibly-same lists every dg:possiblySame pair with each side's meetings counted apart (the records it
    took part in), whatever the other side's."""
    store = stores[backend]
    rows = run(stores, "possibly-same", backend)
    pairs = {(str(a), str(b)) for a, b in store.query(
        "PREFIX dg: <https://w3id.org/diplograph/ontology#> SELECT ?a ?b WHERE { ?a dg:possiblySame ?b }")}
    assert pairs and {(r["personA"], r["personB"]) for r in rows} == pairs

    def meetings(person: str) -> str:
        answer = store.query("PREFIX dg: <https://w3id.org/diplograph/ontology#> SELECT (COUNT(DISTINCT ?m) AS ?n) "
                             f"WHERE {{ ?m dg:participant <{person}> }}")
        return str(next(iter(answer))[0])

    assert all(r["meetingsA"] == meetings(r["personA"]) and r["meetingsB"] == meetings(r["personB"]) for r in rows)
    assert any(int(r["meetingsA"]) > 1 or int(r["meetingsB"]) > 1 for r in rows)


def test_meeting_card_is_a_graph(stores):
    meeting = run(stores, "meetings-between", a="Ian Borg", b="Murat Nurtleu")[0]["meeting"]
    result = run_named(stores["oxigraph"], resolve_query_name("meeting-card"), {"meeting": URIRef(meeting)})
    graph = Graph().parse(data=result_text(result, "turtle"), format="turtle")
    assert (
        URIRef(meeting),
        URIRef("https://w3id.org/diplograph/ontology#place"),
        URIRef("https://w3id.org/diplograph/id/city/astana"),
    ) in graph
    assert any(str(o).startswith("Deputy Prime Minister") for o in graph.objects())


# ------------------------------------------------------------------------------------------
# Names, parameters, headers
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../queries/meetings",
        "..",
        "/etc/passwd",
        "queries/meetings",
        "a/b",
        "meetings/../meetings",
        "~root",
        ".hidden",
        "meetings\x00",
        "",
    ],
)
def test_named_query_lookup_refuses_traversal(name):
    with pytest.raises(QueryError):
        resolve_query_name(name)


def test_a_symlink_out_of_the_queries_folder_is_refused(tmp_path):
    folder = tmp_path / "queries"
    folder.mkdir()
    (folder / "fine.rq").write_text("# fine — a query.\nSELECT * WHERE { ?s ?p ?o }\n", encoding="utf-8")
    secret = tmp_path / "secret.rq"
    secret.write_text("SELECT * WHERE { ?s ?p ?o }\n", encoding="utf-8")
    (folder / "escape.rq").symlink_to(secret)
    assert resolve_query_name("fine", folder).title == "a query."
    with pytest.raises(QueryError, match="outside the queries folder"):
        resolve_query_name("escape", folder)
    assert [q.name for q in list_queries(folder)] == ["fine"]


def test_an_explicit_rq_file_is_allowed(tmp_path):
    path = tmp_path / "mine.rq"
    path.write_text(
        "SELECT ?s WHERE { ?s a <https://w3id.org/diplograph/ontology#State> }\n", encoding="utf-8"
    )
    assert resolve_query_arg(str(path)).path == path
    with pytest.raises(QueryError, match="neither a query name"):
        resolve_query_arg(str(tmp_path / "missing.rq"))
    with pytest.raises(QueryError, match="neither a query name"):
        resolve_query_arg("../etc/passwd")


def test_param_values_become_typed_terms():
    assert parse_param_value("<urn:x:1>") == URIRef("urn:x:1")
    assert parse_param_value("https://w3id.org/diplograph/id/state/KZ") == URIRef(
        "https://w3id.org/diplograph/id/state/KZ"
    )
    assert parse_param_value("dgid:state/KZ") == URIRef("https://w3id.org/diplograph/id/state/KZ")
    assert parse_param_value("2024-06-01") == Literal("2024-06-01", datatype=XSD.date)
    assert parse_param_value("-7") == Literal("-7", datatype=XSD.integer)
    assert parse_param_value('"2024-06-01"') == Literal("2024-06-01")
    assert parse_param_value("Re: talks") == Literal("Re: talks")
    assert parse_param_value("unknownprefix:x") == Literal("unknownprefix:x")
    with pytest.raises(QueryError, match="not a valid date"):
        parse_param_value("2024-02-30")
    with pytest.raises(QueryError, match="not a valid absolute IRI"):
        parse_param_value("<urn:a b>")
    with pytest.raises(QueryError, match="not a valid absolute IRI"):
        parse_param_value('<urn:a>"} ; DROP ALL #>')


def test_header_parsing_of_the_shipped_queries():
    header = parse_header((queries_dir() / "post-holder-on-date.rq").read_text(encoding="utf-8"))
    title, answers, params, examples = header
    assert title.startswith("who held a post")
    assert [(p.name, p.required) for p in params] == [("role", True), ("state", True), ("date", True)]
    assert examples == (
        "diplograph query post-holder-on-date --param role=foreign-minister --param state=KZ "
        "--param date=2024-06-26",
    )


# ------------------------------------------------------------------------------------------
# The command
# ------------------------------------------------------------------------------------------


def cli(capsys, *argv):
    code = kg.cli.main(["query", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_table_csv_tsv_json_xml(capsys):
    code, out, _ = cli(capsys, "who-met-whom", "--graph", str(SAMPLE), "--param", "from=2024-06-27")
    assert code == 0
    assert out.splitlines()[0].split()[:3] == ["partyALabel", "partyBLabel", "date"]
    assert "Alexander Schallenberg" in out and out.rstrip().endswith(
        "(3 rows)"
    )  # with China – Kazakhstan, 2024-06

    code, out, _ = cli(
        capsys, "meetings-of-actor", "--graph", str(SAMPLE), "-p", "actor=Ian Borg", "-f", "csv"
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 3 and "\r\n" in out
    assert rows[0]["matched"] == str(person("Ian Borg")) and rows[0]["actor"] == "Ian Borg"

    code, out, _ = cli(
        capsys, "meetings-of-actor", "--graph", str(SAMPLE), "-p", "actor=Ian Borg", "-f", "tsv"
    )
    lines = out.splitlines()
    assert lines[0].startswith("?actor\t?matched\t?date")
    assert f'"Ian Borg"\t<{person("Ian Borg")}>\t"2024-06-26"^^<{XSD.date}>' in lines[2]

    code, out, _ = cli(capsys, "timeline-by-month", "--graph", str(SAMPLE), "-f", "json")
    document = json.loads(out)
    assert document["head"]["vars"][:2] == ["month", "meetings"]
    first = document["results"]["bindings"][0]
    assert first["month"] == {"type": "literal", "value": "2023-03"}
    assert first["meetings"] == {"type": "literal", "value": "1", "datatype": str(XSD.integer)}
    assert "from" not in first  # unbound variables are left out

    code, out, _ = cli(capsys, "graph-summary", "--graph", str(SAMPLE), "-f", "xml", "--engine", "rdflib")
    assert code == 0 and out.startswith('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql')
    assert '<binding name="instances"><literal datatype="http://www.w3.org/2001/XMLSchema#integer">' in out


def test_cli_on_a_persistent_store(capsys, tmp_path):
    build_store(SAMPLE, tmp_path / "store")
    code, out, _ = cli(
        capsys,
        "post-holder-on-date",
        "--store",
        str(tmp_path / "store"),
        "-p",
        "role=role:foreign-minister",
        "-p",
        "state=dgid:state/KZ",
        "-p",
        "date=2024-06-26",
    )
    assert code == 0 and "Murat Nurtleu" in out and "observed" in out


def test_cli_errors_exit_2(capsys, tmp_path):
    bad = tmp_path / "bad.rq"
    bad.write_text("PREFIX dg: <urn:x#>\nSELECT ?x\nWHERE { ?x dg:p }\n", encoding="utf-8")
    code, _, err = cli(capsys, str(bad), "--graph", str(SAMPLE))
    assert code == 2 and re.search(r"malformed query at line \d+, column \d+", err) and "Traceback" not in err

    update = tmp_path / "update.rq"
    update.write_text("INSERT DATA { <urn:a> <urn:b> <urn:c> }\n", encoding="utf-8")
    code, _, err = cli(capsys, str(update), "--graph", str(SAMPLE))
    assert code == 2 and "updates are refused" in err

    code, _, err = cli(capsys, "../queries/meetings", "--graph", str(SAMPLE))
    assert code == 2 and "neither a query name" in err
    code, _, err = cli(capsys, "no-such-query", "--graph", str(SAMPLE))
    assert code == 2 and "no query named 'no-such-query'" in err
    code, _, err = cli(capsys, "meetings-of-actor", "--graph", str(SAMPLE))
    assert code == 2 and "needs --param actor=VALUE" in err
    code, _, err = cli(capsys, "who-met-whom", "--graph", str(SAMPLE), "-p", "frm=2024-01-01")
    assert code == 2 and "has no variable ?frm" in err and "?from" in err
    code, _, err = cli(capsys, "who-met-whom", "--graph", str(SAMPLE), "-p", "from=2024-13-01")
    assert code == 2 and "not a valid date" in err
    code, _, err = cli(
        capsys, "meeting-card", "--graph", str(SAMPLE), "-p", "meeting=dgid:meeting/x", "-f", "csv"
    )
    assert code == 0
    code, _, err = cli(capsys, "who-met-whom", "--graph", str(SAMPLE), "-f", "turtle")
    assert code == 2 and "for CONSTRUCT/DESCRIBE" in err
    code, _, err = cli(capsys, "who-met-whom", "--graph", str(tmp_path / "nothing.ttl"))
    assert code == 1 and "no such store directory or RDF file" in err


def test_cli_list(capsys):
    code, out, _ = cli(capsys, "--list")
    names = [line.split()[0] for line in out.splitlines()]
    assert code == 0 and names == sorted(QUERY_FILES)


# ------------------------------------------------------------------------------------------
# The graph built from seeds/
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_exports(tmp_path_factory):
    if not (ROOT / "kg" / "commands" / "build.py").is_file():
        pytest.skip("the build command (kg/commands/build.py) does not exist yet")
    out = tmp_path_factory.mktemp("seed-exports")
    try:
        code = kg.cli.main(["build", str(ROOT / "seeds"), "--out", str(out)])
    except ImportError as error:  # a pipeline module another engineer has not committed yet
        pytest.skip(f"the build command cannot run yet: {error}")
    assert code == 0, "diplograph build seeds failed"
    assert (out / "graph.ttl").is_file()
    if not (out / "store").is_dir():
        build_store(out / "graph.ttl", out / "store")
    return out


@pytest.fixture(scope="module")
def seed_stores(seed_exports):
    return {
        "oxigraph": open_store(seed_exports / "store"),
        "rdflib": open_store(seed_exports / "graph.ttl", backend="rdflib"),
    }


def _rows(store, name, **bindings):
    result = run_named(store, resolve_query_name(name), bindings)
    return [dict(zip(result.variables, row, strict=True)) for row in result]


TOKAYEV = ("Tokayev", "Токаев", "Токајев", "توكاييف")
OSMANI = ("Osmani", "Османи", "عثماني")


def _labels(store, iri) -> set[str]:
    query = (
        "SELECT ?x ?label WHERE { ?x <http://www.w3.org/2000/01/rdf-schema#label>|"
        "<http://www.w3.org/2004/02/skos/core#prefLabel>|"
        "<http://www.w3.org/2004/02/skos/core#altLabel> ?label }"
    )
    return {str(label) for _, label in store.query(query, {"x": iri}).rows()}


def test_seed_graph_who_met_whom_has_the_known_pair(seed_stores):
    """seeds/000 (gold: ../shared/eval/gold): Bujar Osmani met Kassym-Jomart Tokayev on 2023-08-11."""
    store = seed_stores["oxigraph"]
    rows = _rows(store, "who-met-whom")
    assert rows, "who-met-whom found no meeting in the graph built from seeds/"
    found = []
    for row in rows:
        if str(row["article"]) != "000_86800092897b47aa":
            continue
        a, b = _labels(store, row["partyA"]), _labels(store, row["partyB"])
        names = " ".join(a), " ".join(b)
        if (
            any(t in names[0] for t in TOKAYEV)
            and any(o in names[1] for o in OSMANI)
            or any(t in names[1] for t in TOKAYEV)
            and any(o in names[0] for o in OSMANI)
        ):
            found.append(row)
    assert found, "who-met-whom lacks the Tokayev – Osmani meeting of seeds/000"
    assert str(found[0]["date"]) == "2023-08-11"


def _seed_params(store) -> dict[str, dict]:
    """Parameters for each query that exist in the seed graph."""
    pairs = _rows(store, "who-met-whom")
    actor = _rows(store, "most-active-actors")[0]["actor"]
    pair = next((r for r in pairs if r["date"] is not None), pairs[0])
    with_topics = next((r for r in pairs if r["topics"] is not None), pair)
    topics = [str(r["topicNotation"]) for r in _rows(store, "meetings") if r["topicNotation"] is not None]
    topic = topics[0] if topics else "security"
    dated = sorted(str(r["date"]) for r in pairs if r["date"] is not None)
    start = (dated[0] + "-01-01")[:10] if dated else "2000-01-01"
    tenure = store.query(
        "PREFIX dg: <https://w3id.org/diplograph/ontology#> PREFIX org: <http://www.w3.org/ns/org#> "
        "SELECT ?person ?role ?org WHERE { ?t a dg:Tenure ; org:member ?person ; org:role ?role "
        "OPTIONAL { ?t org:organization ?org } } ORDER BY ?person ?role LIMIT 1"
    ).rows()
    label = str(next(r["partyALabel"] for r in pairs if not str(r["partyALabel"]).startswith("http")))
    params = {
        "meetings-of-actor": {"actor": actor},
        "meetings-between": {"a": pair["partyA"], "b": pair["partyB"]},
        "topics-of-dyad": {"a": with_topics["partyA"], "b": with_topics["partyB"]},
        "meetings-on-topic-in-period": {"topic": Literal(topic)},
        "new-contacts-in-period": {"from": Literal(start, datatype=XSD.date)},
        "meeting-card": {"meeting": pair["meeting"]},
        "meeting-evidence": {"meeting": pair["meeting"]},
        "search-actors": {"text": Literal(label.split()[-1])},
    }
    who, role, org = tenure[0] if tenure else (URIRef("urn:x:nobody"), Literal("foreign-minister"), None)
    params["posts-of-person"] = {"person": who}
    params["post-holder-on-date"] = {
        "role": role,
        "state": org if org is not None else Literal("KZ"),
        "date": Literal("2030-01-01", datatype=XSD.date),
    }
    return params


# Queries that may rightly find nothing in five articles: no planned meeting, no duplicate person, no place,
# no post with its state.
MAY_BE_EMPTY = {"planned-meetings", "possibly-same", "places", "post-holder-on-date"}


def test_seed_graph_every_query_runs_on_both_engines(seed_stores):
    params = _seed_params(seed_stores["oxigraph"])
    may_be_empty = set(MAY_BE_EMPTY)
    if not any(r["topicNotation"] is not None for r in _rows(seed_stores["oxigraph"], "meetings")):
        may_be_empty |= {"meetings-on-topic-in-period", "topics-of-dyad"}  # no meeting has a topic yet
    if (
        not seed_stores["oxigraph"]
        .query(
            "PREFIX dg: <https://w3id.org/diplograph/ontology#> "
            "ASK { ?m a dg:Meeting ; dg:participant ?p, ?q . "
            "?p dg:affiliation? ?s . ?q dg:affiliation? ?t . "
            "?s a dg:State . ?t a dg:State . FILTER(?s != ?t) }"
        )
        .boolean
    ):
        may_be_empty.add("state-interactions")  # no meeting joins two states (no affiliations yet)
    for name in QUERY_FILES:
        named = resolve_query_name(name)
        bindings = params.get(name, {})
        if any(p.required and p.name not in bindings for p in named.params):
            pytest.fail(f"no seed-graph parameters for {name}")
        results = {}
        for backend, store in seed_stores.items():
            result = run_named(store, named, bindings)
            results[backend] = normalised(result)
        assert same_answers(name, results["oxigraph"], results["rdflib"]), name
        if name not in may_be_empty:
            assert results["oxigraph"], f"{name} with {bindings} found nothing in the graph built from seeds/"


def test_seed_graph_query_command_on_the_exports(capsys, seed_exports):
    os.environ.pop("DIPLOGRAPH_QUERIES", None)
    code, out, _ = cli(capsys, "meetings", "--store", str(seed_exports / "store"), "-f", "csv")
    header = out.splitlines()[0]
    assert code == 0 and header.split(",") == MEETINGS_COLUMNS
    assert len(out.splitlines()) > 1


def test_meetings_of_actor_resolves_names_once_and_keeps_its_answers():
    """The actor is resolved to IRIs first (a sub-select), then joined: a name in another case or script,
    an ISO code and an IRI still find the actor on both engines, and a meeting without topics has ?topics
    unbound (not an empty string), as before the restructuring."""
    extra = (
        "<urn:x:m> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/diplograph/ontology#Meeting> .\n"
        f"<urn:x:m> <https://w3id.org/diplograph/ontology#participant> <{person('Ian Borg')}> .\n"
        "<urn:x:m> <http://www.w3.org/ns/prov#wasDerivedFrom> <urn:x:a> .\n"
        '<urn:x:a> <http://purl.org/dc/terms/identifier> "x-article" .\n'
    )
    answers = {}
    for backend in ("oxigraph", "rdflib"):
        store = open_store(SAMPLE, backend=backend)
        store.load(data=extra, format="nt")
        store_rows = {}
        for actor in ("ian BORG", "IAN BORG", f"<{person('Ian Borg')}>", "mt", "Malta"):
            result = run_named(store, resolve_query_name("meetings-of-actor"), {"actor": parse_param_value(actor)})
            store_rows[actor] = normalised(row[1:] for row in result)
        answers[backend] = store_rows
    assert answers["oxigraph"] == answers["rdflib"]
    rows = answers["oxigraph"]
    assert rows["ian BORG"] == rows["IAN BORG"] == rows[f"<{person('Ian Borg')}>"]
    assert len(rows["ian BORG"]) == 4 and rows["mt"] == rows["Malta"]
    plain = run(
        {"oxigraph": _with(SAMPLE, extra)}, "meetings-of-actor", actor="Ian Borg"
    )
    topicless = [r for r in plain if r["meeting"] == "urn:x:m"]
    assert len(topicless) == 1 and topicless[0]["topics"] is None and topicless[0]["article"] == "x-article"


def _with(path, extra_nt):
    store = open_store(path)
    store.load(data=extra_nt, format="nt")
    return store


@pytest.mark.parametrize("name", ["meetings-between", "topics-of-dyad"])
def test_dyad_queries_resolve_each_side_once_and_keep_their_answers(name):
    """Each side is resolved to IRIs first (a sub-select), the other side is then found among the other
    participants of those meetings or their affiliations: a name in another case or script, an ISO code, a
    state name and an IRI give the same meetings on both engines, in either order of the sides."""
    nurtleu, schallenberg = person("Murat Nurtleu"), person("Alexander Schallenberg")
    forms_a = ("murat NURTLEU", "Murat Nurtleu", f"<{nurtleu}>")
    forms_b = ("ALEXANDER schallenberg", f"<{schallenberg}>")
    end = -2 if name == "meetings-between" else None
    answers = {}
    for backend in ("oxigraph", "rdflib"):
        store = open_store(SAMPLE, backend=backend)
        found = {}
        for a in forms_a:
            for b in forms_b:
                for x, y in ((a, b), (b, a)):
                    result = run_named(
                        store, resolve_query_name(name), {"a": parse_param_value(x), "b": parse_param_value(y)}
                    )
                    # without the parameter columns (and the sides, which swap with them)
                    found[x, y] = normalised(row[2:end] for row in result)
        malta = "<https://w3id.org/diplograph/id/state/MT>"
        for a, b in (("kz", "Malta"), ("Kazakhstan", "MT"), ("KAZAKHSTAN", malta)):
            bindings = {"a": parse_param_value(a), "b": parse_param_value(b)}
            result = run_named(store, resolve_query_name(name), bindings)
            found["states", a] = normalised(row[2:end] for row in result)
        answers[backend] = found
    assert answers["oxigraph"] == answers["rdflib"]
    found = answers["oxigraph"]
    persons = [v for k, v in found.items() if k[0] != "states"]
    assert persons[0] and all(v == persons[0] for v in persons)
    states = [v for k, v in found.items() if k[0] == "states"]
    assert all(v == states[0] for v in states)
    if name == "meetings-between":
        assert len(persons[0]) == 2 and len(states[0]) == 2


RESOLVED_CASES = [
    ("meetings-of-actor", {"actor": "ian BORG"}),
    ("meetings-of-actor", {"actor": "KZ"}),
    ("meetings-of-actor", {"actor": "Nobody Atall"}),
    ("meetings-between", {"a": "Murat Nurtleu", "b": "Alexander Schallenberg"}),
    ("meetings-between", {"a": "Kazakhstan", "b": "MT"}),
    ("meetings-between", {"a": "mt", "b": "Nobody Atall"}),
    ("topics-of-dyad", {"a": "Murat Nurtleu", "b": "alexander schallenberg"}),
    ("topics-of-dyad", {"a": "Austria", "b": "Kazakhstan"}),
    ("posts-of-person", {"person": "murat nurtleu"}),
    ("posts-of-person", {"person": "Nobody Atall"}),
    ("post-holder-on-date", {"role": "foreign-minister", "state": "kz", "date": "2024-06-26"}),
    ("post-holder-on-date", {"role": "foreign-minister", "state": "Kazakhstan", "date": "2024-06-26"}),
    ("state-interactions", {"state": "kazakhstan"}),
    ("state-interactions", {"state": "RU", "to": "2024-06-30"}),
    ("meetings-on-topic-in-period", {"topic": "security"}),
    ("meetings-on-topic-in-period", {"topic": "topic:security", "from": "2023-06-01"}),
    ("search-actors", {"text": "nurtleu"}),
    ("search-actors", {"text": "Лавров"}),
    ("search-actors", {"text": "a"}),
    ("search-actors", {"text": "Nobody Atall"}),
]


@pytest.mark.parametrize("backend", ["oxigraph", "rdflib"])
@pytest.mark.parametrize(("name", "params"), RESOLVED_CASES)
def test_names_resolved_first_give_the_answers_of_the_query_alone(stores, backend, name, params):
    """Binding an "IRI or name -> ?v" parameter's actors before the query runs (run_named) is only a
    shortcut: the query text alone, with the parameters bound, gives the same rows."""
    named = resolve_query_name(name)
    bindings = {key: parse_param_value(value) for key, value in params.items()}
    assert any(p.resolves for p in named.params)
    resolved = normalised(run_named(stores[backend], named, bindings))
    alone = normalised(stores[backend].query(named.text, bindings))
    assert resolved == alone
    if "Nobody" not in str(params):
        assert resolved


def test_a_piece_of_a_name_resolves_to_the_actors_whose_name_keys_contain_it(stores, monkeypatch):
    import kg.query
    from kg.query import actors_containing

    nurtleu = actors_containing(stores["oxigraph"], "NURTLEU")
    assert nurtleu == actors_containing(stores["rdflib"], "nurtleu")
    assert person("Murat Nurtleu") in nurtleu
    assert mint("state", "KZ") in actors_containing(stores["oxigraph"], "kz")  # its ISO code: a key, not a label
    named = resolve_query_name("search-actors")
    assert list(run_named(stores["oxigraph"], named, {"text": Literal("kz")})) == []  # the query tests labels
    assert actors_containing(stores["oxigraph"], "Nobody Atall") == ()
    monkeypatch.setattr(kg.query, "MAX_SEARCH_BINDINGS", 1)
    assert actors_containing(stores["oxigraph"], "nurtleu") is None  # too many: the query scans the labels
    without_keys = Graph().parse(SAMPLE).remove((None, URIRef("https://w3id.org/diplograph/ontology#nameKey"), None))
    assert actors_containing(open_store(without_keys, backend="oxigraph"), "zzz") is None


def test_a_name_resolves_to_every_actor_with_that_name_ignoring_case(stores):
    from kg.query import actors_named, resolve_names

    borg = person("Ian Borg")
    assert actors_named(stores["oxigraph"], "IAN BORG") == actors_named(stores["rdflib"], "ian borg") == (borg,)
    assert actors_named(stores["oxigraph"], "Nobody Atall") == ()
    named = resolve_query_name("meetings-between")
    values = resolve_names(stores["oxigraph"], named.params, {"a": URIRef("urn:x"), "b": Literal("Ian Borg")})
    assert values == {"sideA": (URIRef("urn:x"),)}
