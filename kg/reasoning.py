"""Reasoning over the graph: HermiT consistency checks (through owlready2) and materialised inferences.

This is the only module that imports owlready2, and it does so lazily: everything but
:func:`check_consistency` and :func:`hermit_cross_check` works without Java.

- :func:`check_consistency` loads ontology + data as N-Triples into a fresh ``owlready2.World`` and runs
  HermiT. It returns a :class:`ReasoningResult`: consistent or inconsistent (with a diagnosis naming the
  offending resources and classes), the classes HermiT finds unsatisfiable, the object property values it
  infers, and how long it took; or "skipped" with the reason when ``java`` is not installed.
- :func:`inferred_graph` materialises, as a graph of its own, the facts analysts need without a reasoner: the
  SPARQL CONSTRUCT rules of ``kg/data/rules/*.rq`` run to a fixpoint in Oxigraph (no Java). They mirror the
  axioms of ``ontology/diplograph.ttl``; :func:`hermit_cross_check` compares them with HermiT's inferences.

HermiT only accepts the datatypes of the OWL 2 datatype map; the graph's dates (xsd:date, xsd:gYearMonth,
xsd:gYear) are outside it, so HermiT runs with ``--ignoreUnsupportedDatatypes`` and dates are checked by the
SHACL shapes instead (:mod:`kg.validate`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, ORG, OWL, PROV, RDFS

from kg.ontology import ontology_graph, short_iri, with_ontology
from kg.vocab import BASE, DG, ONTOLOGY_IRI, SEM, bind_prefixes

RULES_DIR = Path(__file__).resolve().parent / "data" / "rules"

# Object properties whose values the rules materialise, and HermiT infers from the same axioms.
CHECKED_PROPERTIES = (
    DG.participant,
    DG.participatesIn,
    DG.possiblySame,
    SEM.hasActor,
    SEM.hasPlace,
    DCTERMS.subject,
    PROV.wasDerivedFrom,
    ORG.memberOf,
)
_INVERSES = {DG.participatesIn: DG.participant}
_SYMMETRIC = (DG.possiblySame,)


@dataclass
class ReasoningResult:
    """What HermiT said about a graph."""

    status: str  # "consistent", "inconsistent", "skipped" (no Java) or "error" (HermiT failed)
    reason: str = ""
    unsatisfiable: list[str] = field(default_factory=list)  # classes equivalent to owl:Nothing
    offending: list[str] = field(default_factory=list)  # diagnosis of an inconsistency, one line each
    seconds: float = 0.0  # time HermiT took (load + reasoning)
    triples: int = 0  # triples given to HermiT
    inferred: Graph | None = None  # object property values HermiT inferred (when consistent)

    @property
    def consistent(self) -> bool | None:
        """True or False when HermiT ran, None when it was skipped or failed."""
        return {"consistent": True, "inconsistent": False}.get(self.status)

    @property
    def coherent(self) -> bool:
        return not self.unsatisfiable

    def text(self) -> str:
        if self.status == "skipped":
            return f"reasoning skipped: {self.reason}"
        if self.status == "error":
            return f"reasoning failed: {self.reason}"
        lines = [f"HermiT: {self.status} ({self.triples} triples, {self.seconds:.1f} s)"]
        if self.unsatisfiable:
            lines.append("unsatisfiable classes: " + ", ".join(self.unsatisfiable))
        if self.status == "inconsistent":
            causes = self.offending or ["no simple cause found (see the ontology)"]
            lines.extend(f"  {line}" for line in causes)
        return "\n".join(lines)


def java_available() -> str | None:
    """The path of the Java executable owlready2 will run, or None."""
    import owlready2

    return shutil.which(owlready2.JAVA_EXE or "java")


def _with_ontology(graph: Graph, include_ontology: bool) -> Graph:
    if include_ontology:
        return with_ontology(graph)
    merged = Graph()
    bind_prefixes(merged)
    for triple in graph:
        merged.add(triple)
    return merged


def _run_hermit(merged: Graph):
    """Load ``merged`` into a fresh owlready2 World and run HermiT; returns (world, seconds) or raises."""
    import owlready2

    fd, tmp_name = tempfile.mkstemp(prefix="diplograph-", suffix=".nt")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(merged.serialize(format="nt", encoding="utf-8"))
        started = time.perf_counter()
        world = owlready2.World()
        with open(tmp_name, "rb") as handle:
            world.get_ontology(BASE + "reasoning-input").load(fileobj=handle, format="ntriples")
        with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet):
            owlready2.sync_reasoner_hermit(
                world, infer_property_values=True, debug=0, ignore_unsupported_datatypes=True
            )
        return world, time.perf_counter() - started
    finally:
        Path(tmp_name).unlink(missing_ok=True)


def check_consistency(graph: Graph, include_ontology: bool = True) -> ReasoningResult:
    """Run HermiT on ``graph`` (plus the ontology and schemes unless ``include_ontology`` is False)."""
    try:
        import owlready2
    except ImportError as error:  # pragma: no cover - owlready2 is a dependency
        return ReasoningResult("skipped", f"owlready2 is not installed ({error})")
    if java_available() is None:
        return ReasoningResult(
            "skipped", f"no Java runtime ({owlready2.JAVA_EXE!r} not on PATH); HermiT needs one"
        )
    merged = _with_ontology(graph, include_ontology)
    started = time.perf_counter()
    try:
        world, seconds = _run_hermit(merged)
    except owlready2.OwlReadyInconsistentOntologyError:
        return ReasoningResult(
            "inconsistent",
            "HermiT found the ontology and data inconsistent",
            offending=diagnose(merged),
            seconds=time.perf_counter() - started,
            triples=len(merged),
        )
    except owlready2.OwlReadyJavaError as error:
        message = str(error).strip().splitlines()
        return ReasoningResult("error", " ".join(message[:4]), seconds=time.perf_counter() - started)
    unsatisfiable = sorted(
        str(cls.iri) for cls in world.inconsistent_classes() if str(cls.iri) != str(OWL.Nothing)
    )
    inferred = _hermit_inferences(world, merged)
    return ReasoningResult(
        "consistent",
        "",
        unsatisfiable=unsatisfiable,
        seconds=seconds,
        triples=len(merged),
        inferred=inferred,
    )


def _hermit_inferences(world, merged: Graph) -> Graph:
    """Object property values of CHECKED_PROPERTIES in the world after reasoning that ``merged`` lacks."""
    world_graph = world.as_rdflib_graph()
    inferred = Graph()
    bind_prefixes(inferred)
    for prop in CHECKED_PROPERTIES:
        for s, o in world_graph.subject_objects(URIRef(str(prop))):
            if isinstance(s, URIRef) and isinstance(o, URIRef) and (s, prop, o) not in merged:
                inferred.add((s, prop, o))
    return inferred


# --- diagnosis of an inconsistency -----------------------------------------------------------------------

_DIAGNOSIS_TYPES = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?x ?c WHERE {
    { ?x a ?t . ?t rdfs:subClassOf* ?c }
    UNION { ?x ?p ?any . ?p rdfs:subPropertyOf*/rdfs:domain ?d . ?d rdfs:subClassOf* ?c }
    UNION { ?any ?p ?x . ?p rdfs:subPropertyOf*/rdfs:range ?r . ?r rdfs:subClassOf* ?c }
    FILTER (isIRI(?x) && isIRI(?c))
}
"""
_DIAGNOSIS_DISJOINT = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
SELECT DISTINCT ?a ?b WHERE {
    { ?a owl:disjointWith ?b }
    UNION { ?all a owl:AllDisjointClasses ; owl:members ?list .
            ?list rdf:rest*/rdf:first ?a . ?list rdf:rest*/rdf:first ?b . FILTER (?a != ?b) }
}
"""
_DIAGNOSIS_FUNCTIONAL = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
SELECT ?x ?p (COUNT(DISTINCT ?v) AS ?n) WHERE {
    ?p a owl:FunctionalProperty . ?x ?p ?v .
} GROUP BY ?x ?p HAVING (COUNT(DISTINCT ?v) > 1)
"""
_DIAGNOSIS_NEGATIVE = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
SELECT ?x ?p ?v WHERE {
    ?p rdfs:range xsd:nonNegativeInteger . ?x ?p ?v .
    FILTER (isLiteral(?v) && (!isNumeric(?v) || ?v < 0))
}
"""


def diagnose(merged: Graph) -> list[str]:
    """Likely causes of an inconsistency, found without a reasoner: resources that fall into disjoint classes
    (asserted types, domains and ranges, through sub-classes and sub-properties), functional properties with
    several values, and negative values of non-negative integer properties."""
    store = to_oxigraph(merged)
    short = short_iri
    types: dict[str, set[str]] = {}
    for row in store.query(_DIAGNOSIS_TYPES):
        types.setdefault(row["x"].value, set()).add(row["c"].value)
    disjoint = {(row["a"].value, row["b"].value) for row in store.query(_DIAGNOSIS_DISJOINT)}
    lines = []
    for thing in sorted(types):
        classes = types[thing]
        pairs = sorted({tuple(sorted((a, b))) for a, b in disjoint if a in classes and b in classes})
        for a, b in pairs:
            lines.append(f"{short(thing)} is both {short(a)} and {short(b)}, which are disjoint")
    for row in store.query(_DIAGNOSIS_FUNCTIONAL):
        thing, prop = short(row["x"].value), short(row["p"].value)
        lines.append(f"{thing} has {row['n'].value} values of functional property {prop}")
    for row in store.query(_DIAGNOSIS_NEGATIVE):
        thing, prop = short(row["x"].value), short(row["p"].value)
        lines.append(f"{thing} {prop} {row['v'].value!r} is not a non-negative integer")
    return lines


# --- materialised inferences without Java ----------------------------------------------------------------


def rule_files() -> list[Path]:
    """The CONSTRUCT rules, in the order they run."""
    return sorted(RULES_DIR.glob("*.rq"))


def _ox_term(term):
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if term.language:
        return ox.Literal(str(term), language=term.language)
    if term.datatype:
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    return ox.Literal(str(term))


def _rdflib_term(term):
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype and term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    return Literal(term.value)


def to_oxigraph(graph: Graph) -> ox.Store:
    """An in-memory Oxigraph store holding the triples of ``graph`` (default graph)."""
    store = ox.Store()
    store.bulk_extend(ox.Quad(_ox_term(s), _ox_term(p), _ox_term(o), ox.DefaultGraph()) for s, p, o in graph)
    return store


def inferred_graph(graph: Graph, include_ontology: bool = True) -> Graph:
    """The facts the rules of ``kg/data/rules`` derive from ``graph`` that ``graph`` does not state itself.

    Runs every rule in Oxigraph until nothing new comes out. With ``include_ontology`` the ontology is added
    first (the type rule needs its class hierarchy); ontology triples never appear in the result.
    """
    source = _with_ontology(graph, include_ontology)
    store = to_oxigraph(source)
    rules = [path.read_text(encoding="utf-8") for path in rule_files()]
    inferred = Graph()
    bind_prefixes(inferred)
    while True:
        new = []
        for rule in rules:
            for triple in store.query(rule):
                quad = ox.Quad(triple.subject, triple.predicate, triple.object, ox.DefaultGraph())
                if quad not in store:
                    new.append(quad)
        if not new:
            break
        store.bulk_extend(new)
        for quad in new:
            if isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode):
                continue  # facts about ontology axioms; analysts need the ones about named resources
            triple = (_rdflib_term(quad.subject), _rdflib_term(quad.predicate), _rdflib_term(quad.object))
            inferred.add(triple)
    return inferred


# --- comparing the rules with HermiT ---------------------------------------------------------------------


@dataclass
class CrossCheck:
    """Values of CHECKED_PROPERTIES derived by the rules only and by HermiT only (empty when they agree)."""

    result: ReasoningResult
    only_rules: set[tuple] = field(default_factory=set)
    only_hermit: set[tuple] = field(default_factory=set)

    @property
    def agree(self) -> bool:
        return self.result.consistent is True and not self.only_rules and not self.only_hermit


def _closure(triples: Graph, data_iris: set) -> set[tuple]:
    """The CHECKED_PROPERTIES values among ``triples`` between data resources, closed under the told
    sub-property hierarchy and under inverse and symmetric properties.

    HermiT's command line lists only the *direct* values of each property (a dg:topic value is not repeated
    under dcterms:subject) and owlready2 keeps the values of inverse properties implicit, so both sides are
    normalised the same way before they are compared."""
    ontology = ontology_graph()
    checked = set(CHECKED_PROPERTIES)
    values = set()
    for s, p, o in triples:
        if s not in data_iris or o not in data_iris:
            continue
        for prop in ontology.transitive_objects(p, RDFS.subPropertyOf):
            if prop in checked:
                values.add((s, prop, o))
    for prop, inverse in _INVERSES.items():
        values |= {(o, prop, s) for s, p, o in list(values) if p == inverse}
        values |= {(o, inverse, s) for s, p, o in list(values) if p == prop}
    for prop in _SYMMETRIC:
        values |= {(o, prop, s) for s, p, o in list(values) if p == prop}
    return values


def hermit_cross_check(graph: Graph) -> CrossCheck:
    """Run HermiT and the rules on ``graph`` and compare the property values they derive."""
    result = check_consistency(graph)
    if result.consistent is not True:
        return CrossCheck(result)
    merged = _with_ontology(graph, True)
    ontology_ns = str(ONTOLOGY_IRI)
    data_iris = {
        node
        for node in merged.all_nodes()
        if isinstance(node, URIRef) and str(node).startswith(BASE) and not str(node).startswith(ontology_ns)
    }
    by_rules = Graph()
    for triple in merged:
        by_rules.add(triple)
    for triple in inferred_graph(graph):
        by_rules.add(triple)
    by_hermit = Graph()
    for triple in merged:
        by_hermit.add(triple)
    for triple in result.inferred or ():
        by_hermit.add(triple)
    rules_values, hermit_values = _closure(by_rules, data_iris), _closure(by_hermit, data_iris)
    return CrossCheck(result, rules_values - hermit_values, hermit_values - rules_values)


__all__ = [
    "CHECKED_PROPERTIES",
    "CrossCheck",
    "ReasoningResult",
    "check_consistency",
    "diagnose",
    "hermit_cross_check",
    "inferred_graph",
    "java_available",
    "rule_files",
    "to_oxigraph",
]
