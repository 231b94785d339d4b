"""Exports: accepted by third-party parsers (rapper, Oxigraph, rdflib, networkx), deterministic, faithful."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pyoxigraph as ox
import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF

from kg import export
from kg.cli import main
from kg.ontology import jsonld_context, with_ontology
from kg.vocab import DG, SEM

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = Path(__file__).resolve().parent / "data" / "sample_graph_export.ttl"
ID = "https://w3id.org/diplograph/id/"
M_BORG = URIRef(ID + "meeting/cd277485e70880b6")
M_PHONE = URIRef(ID + "meeting/c1b51bcf2870bc4e")
M_PLANNED = URIRef(ID + "meeting/48c133c53d2e334c")
NURTLEU = URIRef(ID + "person/a2f5a7477e585241")
EN_GRAPH = URIRef("https://w3id.org/diplograph/graph/article/002_d8447541c7744ffc")
RU_GRAPH = URIRef("https://w3id.org/diplograph/graph/article/901_sample_ru")

RDF_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
}
RAPPER_SYNTAX = {"turtle": "turtle", "ntriples": "ntriples", "nquads": "nquads", "trig": "trig"}
needs_rapper = pytest.mark.skipif(
    shutil.which("rapper") is None, reason="rapper (raptor2-utils) is not installed"
)


@pytest.fixture(scope="module")
def graph() -> Graph:
    """The sample with the ontology, as a built graph.ttl holds it (blank nodes included)."""
    return with_ontology(Graph().parse(SAMPLE))


@pytest.fixture(scope="module")
def exported(graph, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("export")
    return {fmt: export.export(graph, fmt, out / name) for fmt, name in export.FORMATS.items()}


def _quads(path: Path, fmt: str) -> list:
    return list(ox.parse(path=str(path), format=RDF_FORMATS[fmt]))


# --- third-party parsers ------------------------------------------------------------------------------------


@needs_rapper
@pytest.mark.parametrize("fmt", sorted(RAPPER_SYNTAX))
def test_rapper_accepts(exported, graph, fmt):
    run = subprocess.run(
        ["rapper", "-i", RAPPER_SYNTAX[fmt], "-c", str(exported[fmt])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    count = int(run.stderr.rsplit("returned", 1)[1].split()[0])
    assert count == len(_quads(exported[fmt], fmt))
    if fmt in ("turtle", "ntriples"):
        assert count == len(graph)


@pytest.mark.parametrize("fmt", sorted(RDF_FORMATS))
def test_oxigraph_parses(exported, graph, fmt):
    quads = _quads(exported[fmt], fmt)
    if fmt in export.QUAD_FORMATS:
        assert len({q.graph_name for q in quads}) >= 5
        assert len(quads) > len(graph)
    else:
        assert len(quads) == len(graph)
        assert all(q.graph_name == ox.DefaultGraph() for q in quads)


@pytest.mark.parametrize(
    "fmt, rdflib_format", [("turtle", "turtle"), ("ntriples", "nt"), ("jsonld", "json-ld")]
)
def test_rdflib_round_trip_is_isomorphic(exported, graph, fmt, rdflib_format):
    back = Graph().parse(exported[fmt], format=rdflib_format)
    assert isomorphic(back, graph)


def test_networkx_reads_the_graphml(exported, graph):
    network = nx.read_graphml(exported["graphml"])
    meetings = [n for n, d in network.nodes(data=True) if d["kind"] in ("Meeting", "PlannedMeeting")]
    assert sorted(meetings) == sorted(map(str, (M_BORG, M_PHONE, M_PLANNED)))
    assert network.nodes[str(NURTLEU)]["kind"] == "Person" and network.nodes[str(NURTLEU)]["meetings"] == 2
    assert network.nodes[str(M_BORG)]["place"] == "Astana"
    assert network.nodes[str(M_PHONE)]["date"] == "2024-07"
    assert network.degree(str(M_PLANNED)) == 2 and network.number_of_edges() == 6
    types = {
        key.get("attr.type")
        for key in ET.parse(exported["graphml"]).getroot().iter()
        if key.tag.endswith("key")
    }
    assert types <= {"string", "int", "long"}


# --- content ------------------------------------------------------------------------------------------------


def test_turtle_is_the_canonical_serialisation(exported, graph):
    from kg.serialize import turtle_bytes

    assert exported["turtle"].read_bytes() == turtle_bytes(graph)


def test_ntriples_lines_are_sorted(exported):
    lines = exported["ntriples"].read_text(encoding="utf-8").splitlines()
    assert lines == sorted(lines) and len(lines) == len(set(lines))


def test_nquads_put_each_statement_in_the_graph_of_its_article(exported, graph):
    ds = Dataset()
    ds.parse(exported["nquads"], format="nquads")
    en, ru = ds.graph(EN_GRAPH), ds.graph(RU_GRAPH)
    shared = ds.graph(export.SHARED_GRAPH)
    ontology_part = ds.graph(export.ONTOLOGY_GRAPH)
    inferred = ds.graph(export.INFERRED_GRAPH)
    assert (M_BORG, RDF.type, DG.Meeting) in en and (M_BORG, RDF.type, DG.Meeting) not in ru
    assert (M_PHONE, DG.participant, NURTLEU) in ru
    assert (URIRef(ID + "evidence/514bfff66750c1a7"), DG.quote, None) in en
    assert (NURTLEU, DG.mentionedIn, URIRef(ID + "article/901_sample_ru")) in ru
    assert (NURTLEU, RDF.type, DG.Person) in shared and (URIRef(ID + "state/KZ"), None, None) in shared
    tenure = URIRef(ID + "tenure/2061b841019de64b")  # Ian Borg, mentioned in one article only
    assert (tenure, DG.roleLabel, None) in en
    assert (DG.Meeting, RDF.type, None) in ontology_part and (DG.Meeting, None, None) not in shared
    assert (NURTLEU, DG.participatesIn, M_BORG) in inferred
    assert (M_BORG, SEM.hasActor, URIRef(ID + "state/MT")) in inferred
    assert (M_BORG, DG.participant, URIRef(ID + "state/MT")) not in ds
    # the named graphs but the inferred one hold exactly the input
    union = Graph()
    for name in (EN_GRAPH, RU_GRAPH, export.SHARED_GRAPH, export.ONTOLOGY_GRAPH):
        for triple in ds.graph(name):
            union.add(triple)
    assert isomorphic(union, graph)
    # the default graph says where each article graph comes from
    assert (
        EN_GRAPH,
        URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"),
        URIRef(ID + "article/002_d8447541c7744ffc"),
    ) in ds


def test_trig_holds_the_same_graphs_as_nquads(exported):
    trig, nquads = Dataset(), Dataset()
    trig.parse(exported["trig"], format="trig")
    nquads.parse(exported["nquads"], format="nquads")
    names = {g.identifier for g in nquads.graphs()}
    assert {g.identifier for g in trig.graphs()} == names and len(names) >= 6
    for name in names:
        assert isomorphic(trig.graph(name), nquads.graph(name)), name


def test_jsonld_uses_the_published_context(exported):
    document = json.loads(exported["jsonld"].read_text(encoding="utf-8"))
    published = json.loads((ROOT / "ontology" / "context.jsonld").read_text(encoding="utf-8"))["@context"]
    assert document["@context"] == published == jsonld_context()
    nodes = {node["@id"]: node for node in document["@graph"]}
    meeting = nodes["dgid:meeting/cd277485e70880b6"]
    assert meeting["@type"] == "dg:Meeting"
    assert meeting["dg:participant"] == ["dgid:person/8b2d99f63af73709", "dgid:person/a2f5a7477e585241"]
    assert meeting["dg:date"] == {"@type": "xsd:date", "@value": "2024-06-26"}
    assert meeting["dg:mode"] == "dg:InPerson"
    assert nodes["dgid:person/a2f5a7477e585241"]["rdfs:label"] == "Murat Nurtleu"
    ids = [node["@id"] for node in document["@graph"]]
    assert ids == sorted(ids)


def test_csv_has_one_row_per_meeting(exported):
    rows = list(csv.DictReader(io.StringIO(exported["csv"].read_text(encoding="utf-8"))))
    assert [row["iri"] for row in rows] == [str(M_BORG), str(M_PHONE), str(M_PLANNED)]  # by date
    borg, phone, planned = rows
    assert borg["articles"] == "002_d8447541c7744ffc" and borg["date"] == "2024-06-26"
    assert borg["mode"] == "InPerson" and borg["place"] == "Astana"
    assert borg["participants"] == "Ian Borg;Murat Nurtleu" and borg["topics"] == "security;trade"
    assert phone["date"] == "2024-07" and phone["mode"] == "PhoneCall" and phone["place"] == ""
    assert planned["type"] == "PlannedMeeting" and planned["participants"] == "OSCE;Sergey Lavrov"
    assert list(rows[0]) == list(export.CSV_COLUMNS)


def test_inferred_facts_only_where_asked(graph):
    plain = export.export_bytes(graph, "ntriples")
    with_facts = export.export_bytes(graph, "ntriples", inferred=True)
    fact = f"<{NURTLEU}> <{DG.participatesIn}> <{M_BORG}> .".encode()
    assert fact not in plain and fact in with_facts.splitlines()
    assert str(export.INFERRED_GRAPH).encode() not in export.export_bytes(graph, "nquads", inferred=False)


# --- determinism --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(export.FORMATS))
def test_exporting_twice_gives_identical_bytes(fmt):
    first = export.export_bytes(with_ontology(Graph().parse(SAMPLE)), fmt)
    second = export.export_bytes(with_ontology(Graph().parse(SAMPLE)), fmt)
    assert first == second and len(first) > 100


def test_exports_are_identical_across_processes(tmp_path):
    """Separate interpreters with different hash seeds (set and blank-node order) write the same files."""
    source = tmp_path / "graph.ttl"
    source.write_bytes(export.export_bytes(with_ontology(Graph().parse(SAMPLE)), "turtle"))
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"run{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        command = [
            sys.executable,
            "-m",
            "kg",
            "export",
            "--format",
            "all",
            "--graph",
            str(source),
            "--out",
            str(out),
        ]
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
        outputs.append({name: (out / name).read_bytes() for name in export.FORMATS.values()})
    assert outputs[0] == outputs[1]


# --- the command and a fresh build --------------------------------------------------------------------------


def test_export_command(tmp_path, capsys):
    source = tmp_path / "graph.ttl"
    source.write_bytes(export.export_bytes(with_ontology(Graph().parse(SAMPLE)), "turtle"))
    assert main(["export", "--format", "csv", "--graph", str(source), "--out", str(tmp_path / "m.csv")]) == 0
    assert (tmp_path / "m.csv").read_text(encoding="utf-8").startswith("iri,type,articles,date")
    assert main(["export", "-f", "nquads", "--graph", str(source)]) == 0
    assert (tmp_path / "export" / "graph.nq").is_file()
    assert main(["export", "-f", "turtle", "--graph", str(source), "--out", str(source)]) == 1
    assert "refusing to overwrite" in capsys.readouterr().err
    assert main(["export", "-f", "csv", "--graph", str(tmp_path / "missing.ttl")]) == 1


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export-build")
    assert main(["build", str(ROOT / "seeds"), "--out", str(out)]) == 0
    return out / "graph.ttl"


def test_every_format_of_a_fresh_seed_build(fresh_build, tmp_path):
    assert main(["export", "--format", "all", "--graph", str(fresh_build), "--out", str(tmp_path)]) == 0
    built = Graph().parse(fresh_build)
    for fmt, name in export.FORMATS.items():
        path = tmp_path / name
        assert path.is_file() and path.stat().st_size > 0, fmt
        if fmt in RDF_FORMATS:
            assert _quads(path, fmt)
        if fmt in RAPPER_SYNTAX and shutil.which("rapper"):
            run = subprocess.run(
                ["rapper", "-i", RAPPER_SYNTAX[fmt], "-c", str(path)], capture_output=True, check=False
            )
            assert run.returncode == 0, (fmt, run.stderr)
    assert isomorphic(Graph().parse(tmp_path / "graph.jsonld", format="json-ld"), built)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "meetings.csv").read_text(encoding="utf-8"))))
    meetings = set(built.subjects(RDF.type, DG.Meeting)) | set(built.subjects(RDF.type, DG.PlannedMeeting))
    assert {row["iri"] for row in rows} == {str(m) for m in meetings}
    network = nx.read_graphml(tmp_path / "meetings.graphml")
    assert {n for n, d in network.nodes(data=True) if "Meeting" in d["kind"]} == {str(m) for m in meetings}
