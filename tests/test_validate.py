"""SHACL validation: the shapes, the readable report, the ``validate`` command, a fresh build of seeds/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from kg.cli import main
from kg.validate import validate
from kg.vocab import DG, TOPIC

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
BROKEN = DATA / "broken_graph.ttl"
SAMPLE = DATA / "sample_graph_export.ttl"

ID = "https://w3id.org/diplograph/id/"
MEETING = URIRef(ID + "meeting/cd277485e70880b6")
EVIDENCE = URIRef(ID + "evidence/514bfff66750c1a7")
ARTICLE = URIRef(ID + "article/002_d8447541c7744ffc")
BORG = URIRef(ID + "person/8b2d99f63af73709")
KZ = URIRef(ID + "state/KZ")


def _sample() -> Graph:
    return Graph().parse(SAMPLE)


def test_broken_graph_fails_naming_node_path_and_rule():
    report = validate(Graph().parse(BROKEN))
    assert not report.conforms
    found = {(v.focus, v.path, v.component) for v in report.violations}
    assert found == {
        ("dgid:meeting/0000000000000bad", "dg:participant", "MinCountConstraintComponent"),
        ("dgid:meeting/0000000000000bad", "dg:date", "OrConstraintComponent"),
    }
    text = report.text()
    assert text.startswith("does not conform: 2 violation(s)")
    assert "dgid:meeting/0000000000000bad (Murat Nurtleu, 26 June 2024)" in text
    assert "path dg:participant" in text and "a meeting has at least two participants" in text
    assert "path dg:date" in text and 'value "26 June 2024"' in text
    assert "typed xsd:date, xsd:gYearMonth or xsd:gYear" in text


def test_sample_conforms():
    report = validate(_sample())
    assert report.conforms, report.text()
    assert report.violations == [] and report.text() == "conforms: 0 violations"


def test_sample_with_ontology_and_rdfs_inference_conforms():
    assert validate(_sample(), inference="rdfs").conforms


def _drop(graph: Graph, s, p):
    graph.remove((s, p, None))


M, E = "dgid:meeting/cd277485e70880b6", "dgid:evidence/514bfff66750c1a7"
A, P = "dgid:article/002_d8447541c7744ffc", "dgid:person/8b2d99f63af73709"
MIN, OR = "MinCountConstraintComponent", "OrConstraintComponent"
PROV_DERIVED = URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")


def _replace(graph: Graph, s, p, value):
    graph.remove((s, p, None))
    graph.add((s, p, value))


CHANGES = {
    "start-not-before-end": (lambda g: _replace(g, EVIDENCE, DG.endOffset, Literal(10)), E, "dg:startOffset",
                             "LessThanConstraintComponent"),
    "untyped-offset": (lambda g: _replace(g, EVIDENCE, DG.endOffset, Literal("212")), E, "dg:endOffset", OR),
    "no-quote": (lambda g: _drop(g, EVIDENCE, DG.quote), E, "dg:quote", MIN),
    "topic-outside-scheme": (lambda g: g.add((MEETING, DG.topic, TOPIC["not-a-topic"])), M, "dg:topic",
                             "NodeConstraintComponent"),
    "no-evidence": (lambda g: _drop(g, MEETING, DG.evidence), M, "dg:evidence", MIN),
    "no-article": (lambda g: _drop(g, MEETING, PROV_DERIVED), M, "prov:wasDerivedFrom", MIN),
    "participant-not-actor": (lambda g: g.add((MEETING, DG.participant, ARTICLE)), M, "dg:participant",
                              "ClassConstraintComponent"),
    "two-dates": (lambda g: g.add((MEETING, DG.date, Literal("2024-06-27", datatype=XSD.date))), M, "dg:date",
                  "MaxCountConstraintComponent"),
    "person-without-label": (lambda g: _drop(g, BORG, RDFS.label), P, "rdfs:label", MIN),
    "state-without-label": (lambda g: _drop(g, KZ, RDFS.label), "dgid:state/KZ", "rdfs:label", MIN),
    "article-without-id": (lambda g: _drop(g, ARTICLE, DCTERMS.identifier), A, "dcterms:identifier", MIN),
    "article-without-language": (lambda g: _drop(g, ARTICLE, DCTERMS.language), A, "dcterms:language", MIN),
    "affiliation-not-state": (lambda g: g.add((BORG, DG.affiliation, MEETING)), P, "dg:affiliation", OR),
    "name-key-with-language": (lambda g: g.add((BORG, DG.nameKey, Literal("ian borg", lang="en"))), P, "dg:nameKey",
                               "DatatypeConstraintComponent"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_each_rule_is_checked(name):
    change, focus, path, component = CHANGES[name]
    graph = _sample()
    change(graph)
    report = validate(graph)
    assert not report.conforms
    assert (focus, path, component) in {(v.focus, v.path, v.component) for v in report.violations}, (
        report.text()
    )
    assert all(v.rule for v in report.violations if v.path), "every property shape has an sh:name"


def test_validate_command_exit_codes(capsys):
    assert main(["validate", str(BROKEN)]) == 1
    out = capsys.readouterr()
    assert "dgid:meeting/0000000000000bad" in out.out and "MinCountConstraintComponent" in out.out
    assert main(["validate", str(SAMPLE)]) == 0
    assert "conforms: 0 violations" in capsys.readouterr().out


def test_validate_command_names_a_missing_file(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nothing.ttl")]) == 1
    assert "nothing.ttl: no such graph file" in capsys.readouterr().err


def test_validate_command_with_reasoning(capsys):
    code = main(["validate", "--reason", str(SAMPLE)])
    out = capsys.readouterr().out
    if shutil.which("java") is None:
        assert "reasoning skipped" in out
    else:
        assert "HermiT: consistent" in out
    assert code == 0


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("validate-build")
    assert main(["build", str(ROOT / "seeds"), "--out", str(out)]) == 0
    return out / "graph.ttl"


def test_fresh_build_of_seeds_conforms(fresh_build):
    graph = Graph().parse(fresh_build)
    report = validate(graph)
    assert report.conforms, report.text()
    assert len(list(graph.subjects(RDF.type, DG.Meeting))) >= 1


@pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime: HermiT cannot run")
def test_fresh_build_of_seeds_is_consistent_for_hermit(fresh_build):
    from kg.reasoning import hermit_cross_check

    check = hermit_cross_check(Graph().parse(fresh_build))
    assert check.result.consistent is True and check.result.coherent, check.result.text()
    assert check.agree, (sorted(check.only_rules)[:5], sorted(check.only_hermit)[:5])


# --- validation in parts (what `build` runs) ----------------------------------------------------------------


def _same_verdict(graph: Graph):
    from kg.validate import validate_in_parts

    whole = validate(graph)
    parts, fingerprints = validate_in_parts(graph, part_triples=50)  # many small parts
    assert parts.conforms == whole.conforms
    assert parts.violations == whole.violations, (parts.text(), whole.text())
    return parts, fingerprints


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_in_parts_finds_what_the_whole_graph_check_finds(name):
    graph = _sample()
    CHANGES[name][0](graph)
    parts, fingerprints = _same_verdict(graph)
    assert not parts.conforms and fingerprints == set()


def test_in_parts_on_conforming_and_broken_graphs():
    parts, fingerprints = _same_verdict(_sample())
    assert parts.conforms and fingerprints
    _same_verdict(Graph().parse(BROKEN))


def test_in_parts_checks_only_nodes_whose_fragment_changed(monkeypatch):
    import kg.validate as module

    graph = _sample()
    _, known = module.validate_in_parts(graph)
    checked: list[URIRef] = []
    real = module._check_part

    def spy(part):
        checked.extend(node for node, _ in part)
        return real(part)

    monkeypatch.setattr(module, "_check_part", spy)
    again, same = module.validate_in_parts(graph, known)
    assert again.conforms and same == known and checked == []
    graph.add((BORG, DG.affiliation, MEETING))  # Borg's fragment changes; nothing else does
    broken, _ = module.validate_in_parts(graph, known)
    assert checked == [BORG]
    assert ("dgid:person/8b2d99f63af73709", "dg:affiliation") in {(v.focus, v.path) for v in broken.violations}


def test_a_fragment_holds_only_what_the_shapes_read_of_its_node(monkeypatch):
    """A node's fragment leaves out the properties no shape reads (a person's dg:mentionedIn, with its values'
    types) and keeps the rest: a person mentioned in many articles is checked on a few triples, with the
    verdicts of the whole-graph check."""
    import kg.validate as module
    from kg.validate import local_checks

    checks = local_checks()
    person = checks.focus.of([DG.Person])
    assert DG.mentionedIn not in person
    assert {DG.possiblySame, DG.tenure, DG.affiliation, RDF.type} <= person
    # what a shape of another class reads (a meeting's articles) is no part of a tenure's fragment
    assert PROV_DERIVED in checks.focus.of([DG.Meeting]) and PROV_DERIVED not in checks.focus.of([DG.Tenure])
    assert checks.focus.of([DG.Person, DG.Meeting]) == person | checks.focus.of([DG.Meeting])
    graph = _sample()
    fragments: dict = {}
    real = module._check_part

    def spy(part):
        fragments.update(part)
        return real(part)

    monkeypatch.setattr(module, "_check_part", spy)
    graph.add((BORG, DG.possiblySame, MEETING))  # not a person
    broken, _ = _same_verdict(graph)
    assert ("dgid:person/8b2d99f63af73709", "dg:possiblySame") in {(v.focus, v.path) for v in broken.violations}
    borg = set(fragments[BORG])
    assert not any(p == DG.mentionedIn for s, p, _ in borg if s == BORG)
    assert (BORG, DG.possiblySame, MEETING) in borg and (MEETING, RDF.type, DG.Meeting) in borg
    assert any(p == DG.mentionedIn for p in graph.predicates(BORG, None))


def test_properties_judged_value_by_value_are_those_no_shape_bounds_above_or_compares():
    """A rebuild checks a node that conformed on the new values alone of these properties (and as many old
    ones as sh:minCount requires; kg.incremental._narrowed): none may carry a maximum, a comparison, or a shape
    inside sh:or."""
    from rdflib.namespace import RDFS

    from kg.ontology import ontology_graph, shapes_graph
    from kg.validate import _plan, local_checks
    from kg.vocab import ORG

    per_value = local_checks().per_value
    assert {p: per_value.get(p) for p in (DG.observedOn, DG.tenure, DG.topic, DG.participant, RDFS.label)} == {
        DG.observedOn: 0, DG.tenure: 0, DG.topic: 0, DG.participant: 2, RDFS.label: 1}  # at least: sh:minCount
    # at most (sh:maxCount), compared (sh:lessThan) or the node's own types
    assert not per_value.keys() & {ORG.member, ORG.role, DG.date, DG.startOffset, DG.endOffset, RDF.type}
    shapes = shapes_graph()
    shapes.update("""PREFIX sh: <http://www.w3.org/ns/shacl#>
        PREFIX dg: <https://w3id.org/diplograph/ontology#>
        INSERT DATA { <urn:s> a sh:NodeShape ; sh:targetClass dg:Tenure ;
                      sh:or ( [ sh:path dg:nameKey ; sh:datatype <urn:T> ] [ sh:path dg:observedOn ; sh:minCount 2 ] ) ;
                      sh:property [ sh:path dg:topic ; sh:maxCount 3 ] }""")
    plan = _plan(shapes, ontology_graph())
    assert not plan.per_value.keys() & {DG.nameKey, DG.observedOn, DG.topic}
    assert DG.tenure in plan.per_value


def test_shapes_that_reach_beyond_the_node_are_not_checked_in_parts():
    from kg.ontology import ontology_graph, shapes_graph
    from kg.validate import _plan

    assert _plan(shapes_graph(), ontology_graph()) is not None
    shapes = shapes_graph()
    shapes.update("""PREFIX sh: <http://www.w3.org/ns/shacl#>
        INSERT DATA { <urn:s> a sh:NodeShape ; sh:targetClass <urn:C> ;
                      sh:property [ sh:path [ sh:inversePath <urn:p> ] ; sh:minCount 1 ] }""")
    assert _plan(shapes, ontology_graph()) is None


def test_pyshacl_shortcuts_give_the_reports_of_pyshacls_own_code(monkeypatch):
    """The shortcuts of kg.validate.pyshacl_shortcuts (``sh:or`` stopped at the first conforming member,
    ``sh:node`` remembered for values that conform, constraint parameters looked up by hash) against pyshacl's
    own evaluation: the same verdicts, violations and report text on the broken graph and on every broken
    sample, with every ``sh:or`` of the shapes (dates, offsets, labels, affiliations) both passing and failing,
    and a topic outside the scheme on every meeting (a failing ``sh:node`` value met many times)."""
    import pyshacl
    from pyshacl import shape as shape_module
    from pyshacl.constraints.core.logical_constraints import OrConstraintComponent
    from pyshacl.constraints.core.shape_based_constraints import NodeConstraintComponent

    from kg import validate as module

    graphs = {"broken": Graph().parse(BROKEN), "sample": _sample()}
    for name, (change, *_) in CHANGES.items():
        graphs[name] = _sample()
        change(graphs[name])
    every_meeting = graphs["every-meeting-off-scheme"] = _sample()
    for meeting in set(every_meeting.subjects(RDF.type, DG.Meeting)):
        every_meeting.add((meeting, DG.topic, TOPIC["not-a-topic"]))
    monkeypatch.setattr(module, "PYSHACL_SHORTCUTS", False)
    stock = {name: validate(graph) for name, graph in graphs.items()}
    assert OrConstraintComponent._evaluate_or_constraint is not module._evaluate_or_until_one_conforms
    assert NodeConstraintComponent._evaluate_node_shape is not module._evaluate_node_shape_once
    monkeypatch.setattr(module, "PYSHACL_SHORTCUTS", True)
    ours = {name: validate(graph) for name, graph in graphs.items()}
    applies = str(pyshacl.__version__).startswith(module.SHORTCUT_RELEASES)
    assert (OrConstraintComponent._evaluate_or_constraint is module._evaluate_or_until_one_conforms) == applies
    assert (NodeConstraintComponent._evaluate_node_shape is module._evaluate_node_shape_once) == applies
    assert isinstance(shape_module.CONSTRAINT_PARAMS[0], module._ParameterList) == applies
    for name in graphs:
        assert (ours[name].conforms, ours[name].violations, ours[name].text()) == (
            stock[name].conforms, stock[name].violations, stock[name].text()), name
    assert sum(not report.conforms for report in stock.values()) == len(CHANGES) + 2
    off_scheme = [v for v in ours["every-meeting-off-scheme"].violations if v.path == "dg:topic"]
    assert len(off_scheme) == len(set(every_meeting.subjects(RDF.type, DG.Meeting))) > 1


def test_a_remembered_node_shape_is_checked_once_per_value_and_run(monkeypatch):
    """With the shortcuts, each topic of the sample is checked against ``dgsh:TopicInScheme`` once per run,
    however many meetings name it; without them, once per meeting that names it."""
    import pyshacl
    from pyshacl.shape import Shape

    from kg import validate as module

    if not str(pyshacl.__version__).startswith(module.SHORTCUT_RELEASES):
        pytest.skip("the shortcuts apply to pyshacl 0.40 only")
    graph = _sample()
    checks: list = []
    real = Shape.validate

    def counting(self, executor, target_graph, focus=None, **kwargs):
        if str(self.node).endswith("TopicInScheme") and focus is not None:  # not the run over targets
            checks.append(focus)
        return real(self, executor, target_graph, focus=focus, **kwargs)

    monkeypatch.setattr(Shape, "validate", counting)
    monkeypatch.setattr(module, "PYSHACL_SHORTCUTS", True)
    assert validate(graph).conforms
    remembered = list(checks)
    checks.clear()
    monkeypatch.setattr(module, "PYSHACL_SHORTCUTS", False)
    assert validate(graph).conforms
    mentions = list(graph.triples((None, DG.topic, None)))
    assert sorted(remembered) == sorted({topic for _, _, topic in mentions})
    assert len(checks) == len(mentions) > len(remembered)
