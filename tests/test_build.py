"""The foundation end to end: `diplograph build seeds` writes one loadable graph with every article."""

from __future__ import annotations

import subprocess
import sys

import pytest
from rdflib import Graph
from rdflib.namespace import DCTERMS, RDF

from kg.cli import main
from kg.vocab import DG

from .conftest import ROOT, SEEDS, SHARED


def test_graph_has_one_article_per_seed(seed_graph):
    articles = set(seed_graph.subjects(RDF.type, DG.Article))
    stems = {p.stem for p in SEEDS.glob("*.txt")}
    assert len(articles) == len(stems) == 5
    assert {str(seed_graph.value(a, DCTERMS.identifier)) for a in articles} == stems
    for article in articles:
        assert seed_graph.value(article, DCTERMS.language) is not None
        assert seed_graph.value(article, DCTERMS.title) is not None


def test_graph_carries_ontology_and_topic_scheme(seed_graph):
    from rdflib.namespace import OWL, SKOS

    assert (None, RDF.type, OWL.Ontology) in seed_graph
    notations = {str(n) for n in seed_graph.objects(None, SKOS.notation)}
    assert {"security", "trade", "bilateral-relations"} <= notations


def test_cli_build_and_same_bytes_twice(tmp_path):
    assert main(["build", str(SEEDS), "--out", str(tmp_path / "a")]) == 0
    assert main(["build", str(SEEDS), "--out", str(tmp_path / "b")]) == 0
    first = (tmp_path / "a" / "graph.ttl").read_bytes()
    assert first == (tmp_path / "b" / "graph.ttl").read_bytes()
    Graph().parse(data=first.decode("utf-8"), format="turtle")


@pytest.mark.skipif(not (SHARED / "eval" / "score.py").exists(), reason="the shared scorer is not beside the repo")
def test_scorer_runs_on_the_graph(seed_build):
    out, _ = seed_build
    result = subprocess.run(
        [sys.executable, str(SHARED / "eval" / "score.py"), "--gold", str(SHARED / "eval" / "gold"),
         "--graph", str(out / "graph.ttl"), "--query", str(ROOT / "queries" / "meetings.rq")],
        capture_output=True, text=True, check=True,
    )
    assert "meetings P=" in result.stdout
