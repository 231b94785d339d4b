"""Projections of the meeting graph onto NetworkX graphs (kg.projections), on analysis_sample.ttl."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rdflib import Graph

from kg import projections as proj

SAMPLE = Path(__file__).parent / "data" / "analysis_sample.ttl"
P = "https://w3id.org/diplograph/id/person/"
ANNA, BORIS, CARLA = P + "30f7328962f19358", P + "0e2972b83cc7e2a8", P + "99899c20f7b89963"
DANA, EMIL, FARID = P + "118f8520e2056c7d", P + "413fe3f4279ffb74", P + "99aed58751d638a5"
AT, RU, MK = (f"https://w3id.org/diplograph/id/state/{c}" for c in ("AT", "RU", "MK"))
OSCE, UN = "https://w3id.org/diplograph/id/org/osce", "https://w3id.org/diplograph/id/org/un"
SECURITY = "https://w3id.org/diplograph/topic/security"


@pytest.fixture(scope="module")
def rdf() -> Graph:
    return Graph().parse(SAMPLE, format="turtle")


@pytest.fixture(scope="module")
def data(rdf):
    return proj.load_meetings(rdf)


def pairs(graph) -> dict[frozenset, int]:
    label = graph.nodes
    return {frozenset((label[u]["label"], label[v]["label"])): w for u, v, w in graph.edges(data="weight")}


def test_load_reads_meetings_actors_and_topics(data):
    assert len(data.meetings) == 10  # the planned meeting is not one
    assert [m.date for m in data.meetings][:3] == ["2023", "2024-01-15", "2024-02-10"]
    assert data.meetings[-1].date is None  # undated last
    assert data.actor(ANNA).label == "Anna Berg" and data.actor(ANNA).type == "Person"
    assert data.actor(ANNA).affiliations == (AT,)
    assert data.actor(OSCE).type == "Organization" and data.actor(MK).type == "State"
    assert data.topics["security"].label == "Security and stability"


def test_person_graph_weights_and_edge_lists(data):
    graph = proj.person_graph(data)
    assert graph.number_of_nodes() == 6 and graph.number_of_edges() == 9
    assert {graph.nodes[n]["type"] for n in graph} == {"Person"}
    edge = graph.edges[ANNA, BORIS]
    assert edge["weight"] == 3
    assert edge["dates"] == ["2024-01-15", "2024-02-10", "2024-03-05"]
    assert len(edge["meetings"]) == 3
    assert all(m.startswith("https://w3id.org/diplograph/id/meeting/") for m in edge["meetings"])
    assert edge["topics"] == ["security", "trade"]
    assert edge["meeting_topics"] == [["security", "trade"], ["security"], ["trade"]]
    assert edge["quotes"][0] == "Anna Berg met Boris Ivanov in Vienna to discuss security and trade."
    assert (edge["first_date"], edge["last_date"]) == ("2024-01-15", "2024-03-05")
    assert graph.nodes[ANNA]["meetings"] == 6 and graph.nodes[ANNA]["affiliation"] == "Austria"
    # a three-person meeting links every pair
    assert graph.has_edge(CARLA, DANA) and graph.has_edge(DANA, FARID) and graph.has_edge(CARLA, FARID)
    # an undated meeting still counts when no period is asked for
    assert graph.edges[EMIL, FARID]["dates"] == [""]


def test_planned_meetings_are_left_out_unless_asked_for(rdf):
    assert not proj.person_graph(rdf).has_edge(ANNA, FARID)
    assert proj.person_graph(rdf, include_planned=True).edges[ANNA, FARID]["dates"] == ["2024-09"]


def test_actor_graph_has_every_participant_type(data):
    graph = proj.actor_graph(data)
    assert graph.number_of_nodes() == 9 and graph.number_of_edges() == 12
    assert graph.nodes[OSCE]["type"] == "Organization" and graph.nodes[UN]["label"] == "United Nations"
    assert graph.has_edge(ANNA, OSCE) and graph.has_edge(EMIL, OSCE) and graph.has_edge(MK, UN)


def test_state_graph_goes_through_affiliation(data):
    graph = proj.state_graph(data)
    assert {graph.nodes[n]["type"] for n in graph} == {"State"}
    assert pairs(graph)[frozenset(("Austria", "Russia"))] == 3
    assert graph.has_edge(AT, MK)  # Anna (AT) met Emil (MK) with the OSCE, which maps to no state
    assert graph.number_of_edges() == 9
    assert not any(graph.has_edge(n, n) for n in graph)


def test_actor_topic_graph_is_bipartite(data):
    graph = proj.actor_topic_graph(data)
    assert graph.nodes[ANNA]["bipartite"] == 0 and graph.nodes[SECURITY]["bipartite"] == 1
    assert graph.nodes[SECURITY]["type"] == "Topic" and graph.nodes[SECURITY]["notation"] == "security"
    assert graph.edges[ANNA, SECURITY]["weight"] == 3
    assert all(graph.nodes[u]["bipartite"] != graph.nodes[v]["bipartite"] for u, v in graph.edges)


def test_slice_by_period(data):
    graph = proj.person_graph(data, date_from="2024-03-01", date_to="2024-04-30")
    assert pairs(graph) == {
        frozenset(("Anna Berg", "Boris Ivanov")): 1,
        frozenset(("Anna Berg", "Carla Mendes")): 1,
        frozenset(("Anna Berg", "Dana Kaz")): 1,  # dated 2024-04 only
    }
    assert graph.graph["date_from"] == "2024-03-01"
    # a month-precision meeting lies inside any period that overlaps its month
    april = proj.person_graph(data, "2024-04-15", "2024-04-20")
    assert pairs(april) == {frozenset(("Anna Berg", "Dana Kaz")): 1}
    # a year-precision meeting inside a period of that year; undated meetings never in a sliced period
    late_2023 = proj.person_graph(data, "2023-06", "2023-12")
    assert pairs(late_2023) == {frozenset(("Boris Ivanov", "Dana Kaz")): 1}
    assert not proj.person_graph(data, date_from="1900").has_edge(EMIL, FARID)
    assert proj.person_graph(data, date_to="2022").number_of_edges() == 0


def test_slice_by_topic(data):
    assert pairs(proj.person_graph(data, topic="trade")) == {
        frozenset(("Anna Berg", "Boris Ivanov")): 2,
        frozenset(("Boris Ivanov", "Dana Kaz")): 1,
    }
    assert proj.actor_graph(data, topic=["culture", "sustainable-development"]).number_of_edges() == 2
    assert proj.state_graph(data, "2024", "2024", topic="security").number_of_edges() == 2
    assert proj.person_graph(data, topic="no-such-topic").number_of_nodes() == 0


def test_bad_period_bounds_are_refused(data):
    with pytest.raises(ValueError, match="YYYY"):
        proj.person_graph(data, date_from="01/02/2024")


def test_projections_are_deterministic(rdf):
    for build in proj.PROJECTIONS.values():
        first, second = build(rdf), build(proj.load_meetings(rdf))
        assert list(first.nodes(data=True)) == list(second.nodes(data=True))
        assert list(first.edges(data=True)) == list(second.edges(data=True))
    graph = proj.actor_graph(rdf)
    assert list(graph) == sorted(graph)
    assert [tuple(sorted(e)) for e in graph.edges] == sorted(tuple(sorted(e)) for e in graph.edges)


def test_same_result_from_an_oxigraph_store(data):
    pytest.importorskip("oxrdflib", reason="oxrdflib is not installed")
    store = Graph(store="Oxigraph")
    store.parse(SAMPLE, format="turtle")
    other = proj.load_meetings(store)
    assert (other.meetings, other.actors, other.topics) == (data.meetings, data.actors, data.topics)


DAY = st.dates().map(lambda d: d.isoformat())


@given(DAY, DAY, DAY)
def test_in_period_is_plain_comparison_for_days(date, a, b):
    low, high = min(a, b), max(a, b)
    assert proj.in_period(date, low, high) == (low <= date <= high)


@given(DAY, DAY, DAY)
def test_a_coarser_date_is_kept_when_any_day_of_it_would_be(date, a, b):
    low, high = min(a, b), max(a, b)
    if proj.in_period(date, low, high):
        assert proj.in_period(date[:7], low, high) and proj.in_period(date[:4], low, high)
