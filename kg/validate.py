"""SHACL validation of a graph against ``ontology/shapes.ttl`` (pyshacl).

The ontology and the topic and role schemes are added to (a copy of) the data before checking, so
``sh:class dg:Actor`` accepts a ``dg:Person`` (``rdfs:subClassOf``) and ``dg:topic`` values are checked
against the topic scheme even when the data graph holds no scheme. (pyshacl's own ``ont_graph`` would only
mix in RDFS/OWL axioms, not the SKOS schemes.) No inference is run by default.

>>> from rdflib import Graph
>>> report = validate(Graph())
>>> report.conforms, report.text()
(True, 'conforms: 0 violations')
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS, SH

from kg.ontology import shapes_graph, short_iri, with_ontology
from kg.vocab import bind_prefixes


@dataclass(frozen=True)
class Violation:
    """One failed SHACL constraint: which node, along which path, against which rule."""

    focus: str  # the focus node, shortened (dgid:meeting/...)
    focus_label: str  # its rdfs:label when it has one
    path: str  # the property path, shortened (dg:participant); "" for node constraints
    value: str  # the offending value, when SHACL names one
    rule: str  # the sh:name of the property shape (what the graph promises)
    component: str  # the SHACL constraint component (MinCountConstraintComponent, ...)
    message: str  # sh:message of the shape, or pyshacl's own message
    severity: str  # Violation, Warning or Info

    def line(self) -> str:
        node = f"{self.focus} ({self.focus_label})" if self.focus_label else self.focus
        parts = [f"{self.severity}: {node}"]
        if self.path:
            parts.append(f"path {self.path}")
        if self.value:
            parts.append(f"value {self.value}")
        parts.append(f"rule: {self.rule or self.component} [{self.component}]")
        return " | ".join(parts) + f"\n    {self.message}"


@dataclass
class ValidationReport:
    """The outcome of :func:`validate`: ``conforms`` and the violations, sorted by node, path and rule."""

    conforms: bool
    violations: list[Violation] = field(default_factory=list)
    pyshacl_text: str = ""

    def text(self) -> str:
        if self.conforms:
            return "conforms: 0 violations"
        lines = [f"does not conform: {len(self.violations)} violation(s)"]
        lines.extend(v.line() for v in self.violations)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


def _short(graph: Graph, node) -> str:
    if node is None:
        return ""
    if isinstance(node, URIRef):
        return short_iri(node)
    if isinstance(node, Literal):
        return node.n3(graph.namespace_manager)
    return f"[{type(node).__name__}]"  # a blank node (e.g. a sequence path)


def _label(graph: Graph, node) -> str:
    labels = sorted(
        graph.objects(node, RDFS.label), key=lambda lit: (getattr(lit, "language", None) != "en", str(lit))
    )
    return str(labels[0]) if labels else ""


def validate(data_graph: Graph, inference: str = "none") -> ValidationReport:
    """Check ``data_graph`` against the shapes; ``inference`` is passed to pyshacl ("none" or "rdfs")."""
    import pyshacl

    shapes = shapes_graph()
    combined = with_ontology(data_graph)
    conforms, results, text = pyshacl.validate(
        combined,
        shacl_graph=shapes,
        inference=inference,
        abort_on_first=False,
        allow_infos=True,
        allow_warnings=True,
        advanced=False,
        do_owl_imports=False,
    )
    names = Graph()
    bind_prefixes(names)
    violations = []
    for result in results.subjects(SH.resultSeverity, None):
        focus = results.value(result, SH.focusNode)
        path = results.value(result, SH.resultPath)
        source = results.value(result, SH.sourceShape)
        component = results.value(result, SH.sourceConstraintComponent)
        severity = results.value(result, SH.resultSeverity)
        message = results.value(result, SH.resultMessage)
        rule = shapes.value(source, SH.name) if source is not None else None
        violations.append(
            Violation(
                focus=_short(names, focus),
                focus_label=_label(data_graph, focus),
                path=_short(names, path),
                value=_short(names, results.value(result, SH.value)),
                rule=str(rule or ""),
                component=str(component).rsplit("#", 1)[-1] if component else "",
                message=str(message or ""),
                severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
            )
        )
    violations.sort(key=lambda v: (v.focus, v.path, v.rule, v.component, v.value, v.message))
    return ValidationReport(bool(conforms), violations, str(text))
