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

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS, SH

from kg.collector import DEFAULT_THRESHOLDS, freeze_once, gc_thresholds
from kg.memgraph import objects_grouper
from kg.ontology import shapes_graph, short_iri, with_ontology
from kg.parallel import Workers
from kg.serialize import BlockDigests, block_digests, digest64
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


#: pyshacl releases whose internals :func:`pyshacl_shortcuts` was written against and tested with.
SHORTCUT_RELEASES = ("0.40.",)
#: Whether validations here take :func:`pyshacl_shortcuts` (a test turns them off to compare with pyshacl's own).
PYSHACL_SHORTCUTS = True
_stock: dict[str, object] = {}


def pyshacl_shortcuts(enable: bool = True) -> bool:
    """Make pyshacl skip work whose outcome is already known (``enable=False`` restores its own code).
    Returns whether the shortcuts are in effect. Verdicts, violations and report text do not change
    (``tests/test_validate.py`` compares both ways on a graph breaking every rule); only the releases in
    :data:`SHORTCUT_RELEASES` are changed, as the replaced methods are pyshacl's own, not a public API.

    - ``sh:or`` stops at the first member a value conforms to (:func:`_evaluate_or_until_one_conforms`).
      pyshacl checks every value against every member and builds a full result (message, path, value) for
      each member the value fails, only to discard it: a language-tagged label checked against
      ``sh:or ([sh:datatype rdf:langString] [sh:datatype xsd:string])`` builds one per label.
    - ``sh:node``: a value found to conform to a node shape is not checked against it again in the same
      run (:func:`_evaluate_node_shape_once`): every meeting's topics are a few dozen concepts, each checked
      against ``dgsh:TopicInScheme`` once per meeting otherwise (a quarter of a validation).
    - Every check of a shape looks up each of the shape's predicates in pyshacl's *list* of constraint
      parameters, by equality, term by term (:class:`_ParameterList` looks them up by hash).
    """
    import pyshacl

    if not str(pyshacl.__version__).startswith(SHORTCUT_RELEASES):
        return False  # another release's internals may differ: its own code runs
    from pyshacl import shape as shape_module
    from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP
    from pyshacl.constraints.core.logical_constraints import OrConstraintComponent
    from pyshacl.constraints.core.shape_based_constraints import NodeConstraintComponent

    if not enable:
        if _stock:
            OrConstraintComponent._evaluate_or_constraint = _stock.pop("or")
            NodeConstraintComponent._evaluate_node_shape = _stock.pop("node")
            params = _stock.pop("params")
            if params is None:  # pyshacl sets it on its first check
                shape_module.__dict__.pop("CONSTRAINT_PARAMS", None)
            else:
                shape_module.CONSTRAINT_PARAMS = params
        return False
    if _stock:
        return True
    _stock["or"] = OrConstraintComponent._evaluate_or_constraint
    _stock["node"] = NodeConstraintComponent._evaluate_node_shape
    _stock["params"] = getattr(shape_module, "CONSTRAINT_PARAMS", None)
    OrConstraintComponent._evaluate_or_constraint = _evaluate_or_until_one_conforms
    NodeConstraintComponent._evaluate_node_shape = _evaluate_node_shape_once
    shape_module.CONSTRAINT_PARAMS = (_ParameterList(ALL_CONSTRAINT_PARAMETERS), CONSTRAINT_PARAMETERS_MAP)
    return True


class _ParameterList(list):
    """pyshacl's list of constraint parameters, whose membership test hashes instead of comparing each term.
    A copy (pyshacl extends one in its advanced and JavaScript modes) is a plain list."""

    def __init__(self, parameters) -> None:
        super().__init__(parameters)
        self._members = frozenset(parameters)

    def __contains__(self, term) -> bool:
        return term in self._members

    def copy(self) -> list:
        return list(self)


def _evaluate_or_until_one_conforms(component, executor, or_c, target_graph, focus_value_nodes, _evaluation_path):
    from pyshacl.errors import ReportableRuntimeError

    sg = component.shape.sg
    members = []
    for node in sg.graph.items(or_c):
        if sg.is_filtered_out_shape(node):
            continue
        member = component.shape.get_other_shape(node)
        if not member:
            raise ReportableRuntimeError("a member of sh:or is not a well-formed SHACL shape")
        members.append(member)
    if not members:
        return False, []
    non_conformant, reports = False, []
    for focus, values in focus_value_nodes.items():
        for value in values:
            if not any(member.validate(executor, target_graph, focus=value, _evaluation_path=_evaluation_path[:])[0]
                       for member in members):
                non_conformant = True
                reports.append(component.make_v_result(target_graph, focus, value_node=value))
    return non_conformant, reports


def _evaluate_node_shape_once(
    component, executor, node_shape, target_graph, focus_value_nodes, potentially_recursive, _evaluation_path
):
    """pyshacl's ``sh:node`` check of the values of some focus nodes, remembering for the run (the executor)
    which values conformed with nothing to report. A value that did not conform is checked again each time,
    so every failure is reported as pyshacl reports it, with its details."""
    from textwrap import indent

    from pyshacl.consts import SH_detail

    found = component.shape.get_other_shape(node_shape)
    usual = _stock["node"]
    if (not found or found.is_property_shape or executor.advanced_mode
            or (potentially_recursive and found in potentially_recursive)):
        return usual(component, executor, node_shape, target_graph, focus_value_nodes, potentially_recursive,
                     _evaluation_path)
    conforming = executor.__dict__.setdefault("_values_conforming_to", {}).setdefault((id(target_graph), found), set())
    non_conformant, reports = False, []
    for focus, values in focus_value_nodes.items():
        for value in values:
            if value in conforming:
                continue
            ok, details = found.validate(executor, target_graph, focus=value, _evaluation_path=_evaluation_path[:])
            if ok and not details:
                conforming.add(value)
                continue
            non_conformant = True
            text, result, triples = component.make_v_result(target_graph, focus, value_node=value)
            text = f"{text}\tDetails:\n"
            for detail_text, detail_node, detail_triples in details:
                text += indent(detail_text, "\t\t")
                triples.append((result, SH_detail, detail_node))
                triples.extend(detail_triples)
            reports.append((text, result, triples))
    return non_conformant, reports


def validate(data_graph: Graph, inference: str = "none") -> ValidationReport:
    """Check ``data_graph`` against the shapes; ``inference`` is passed to pyshacl ("none" or "rdfs")."""
    import pyshacl

    pyshacl_shortcuts(PYSHACL_SHORTCUTS)

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
    violations = _violations(results, shapes, data_graph)
    violations.sort(key=lambda v: (v.focus, v.path, v.rule, v.component, v.value, v.message))
    return ValidationReport(bool(conforms), violations, str(text))


def _violations(results: Graph, shapes: Graph, data_graph: Graph) -> list[Violation]:
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
    return violations


# --- validation in parts -----------------------------------------------------------------------------------

#: SHACL terms whose constraints look only at the focus node's own triples and the types (and, through
#: ``sh:node``, the listed properties) of its values: shapes built from these alone can be checked node by node.
_LOCAL_TERMS = frozenset(SH[name] for name in (
    "NodeShape", "PropertyShape", "property", "path", "targetClass", "class", "datatype", "minCount", "maxCount",
    "or", "node", "hasValue", "in", "pattern", "flags", "nodeKind", "lessThan", "lessThanOrEquals", "minInclusive",
    "maxInclusive", "minExclusive", "maxExclusive", "minLength", "maxLength", "languageIn", "name", "message",
    "description", "severity", "deactivated", "order", "group", "IRI", "Literal", "BlankNode", "BlankNodeOrIRI",
    "IRIOrLiteral", "BlankNodeOrLiteral", "Violation", "Warning", "Info",
))

#: Target triples checked together by one pyshacl call (with the ontology and schemes beside them).
PART_TRIPLES = 40_000
#: Values' triples remembered while cutting parts (past this, fetched again when met): bounds the validation's
#: memory on a graph of millions of nodes.
VALUE_CACHE_LIMIT = 250_000


@dataclass
class _Plan:
    """What :func:`validate_in_parts` needs to know about the shapes: which node shape checks which classes,
    and which properties of a value node a shape reads (through ``sh:node``)."""

    shapes: Graph
    targets: dict[URIRef, frozenset]  # node shape -> the classes it targets, with their subclasses
    value_predicates: frozenset  # properties of value nodes that sh:node shapes read (besides rdf:type)
    #: the properties the shapes that check a node read of it (:class:`FocusPredicates`)
    focus: FocusPredicates = field(default_factory=lambda: FocusPredicates({}))
    #: the focus properties whose values the shapes judge one by one, with the least number of values they
    #: require (:func:`_per_value_paths`)
    per_value: dict = field(default_factory=dict)


def _plan(shapes: Graph, ontology: Graph) -> _Plan | None:
    """The plan for these shapes, or None where they are not local (then the whole graph is validated)."""
    from rdflib import BNode
    from rdflib.namespace import RDF

    for _, p, o in shapes:
        for term in (p, o):
            if isinstance(term, URIRef) and str(term).startswith(str(SH)) and term not in _LOCAL_TERMS:
                return None
        if p == SH.path and not isinstance(o, URIRef):
            return None  # a sequence, inverse or alternative path reaches beyond the node
    subclasses: dict = {}
    for sub, sup in ontology.subject_objects(RDFS.subClassOf):
        subclasses.setdefault(sup, set()).add(sub)

    def closure(cls) -> set:
        seen, todo = {cls}, [cls]
        while todo:
            for sub in subclasses.get(todo.pop(), ()):
                if sub not in seen:
                    seen.add(sub)
                    todo.append(sub)
        return seen

    targets: dict[URIRef, frozenset] = {}
    for shape in set(shapes.subjects(SH.targetClass, None)):
        if not isinstance(shape, URIRef):
            return None
        targets[shape] = frozenset(c for cls in shapes.objects(shape, SH.targetClass) for c in closure(cls))
    reached = set(shapes.objects(None, SH.node))
    value_predicates = {
        path for node in reached for prop in shapes.objects(node, SH.property) for path in shapes.objects(prop, SH.path)
    }
    if any(isinstance(node, BNode) for node in reached):
        return None
    # pyshacl's use_shapes ignores named shapes it is not given, and applies every shape it is given to the
    # focus nodes; so the shapes a node shape uses (property shapes, sh:node shapes) become blank nodes here.
    used = {o for o in shapes.objects() if isinstance(o, URIRef) and o not in targets and (o, None, None) in shapes}
    anonymous = {node: BNode() for node in used}
    local = Graph()
    for s, p, o in shapes:
        local.add((anonymous.get(s, s), p, anonymous.get(o, o)))
    read_by_class: dict = {}
    for shape, classes in targets.items():
        read = _read_by(shapes, shape)
        for cls in classes:
            read_by_class[cls] = read_by_class.get(cls, frozenset()) | read
    return _Plan(local, targets, frozenset(value_predicates | {RDF.type}), FocusPredicates(read_by_class),
                 _per_value_paths(shapes, targets))


class FocusPredicates:
    """The properties of a node the shapes that check it read: their paths (with those of the shapes they
    use), the other side of ``sh:lessThan``, and ``rdf:type``. A node's other triples (a person's
    ``dg:mentionedIn``, its alternative labels, a tenure's ``prov:wasDerivedFrom``) and their values are left
    out of its fragment, for no shape checking it can see them."""

    def __init__(self, by_class: dict) -> None:
        self.by_class = by_class
        self._of: dict[frozenset, frozenset] = {}

    def of(self, types: Iterable) -> frozenset:
        """Those read of a node with these ``types``."""
        from rdflib.namespace import RDF

        key = frozenset(types)
        found = self._of.get(key)
        if found is None:
            found = self._of[key] = frozenset().union(*(self.by_class.get(t, ()) for t in key), {RDF.type})
        return found


def _read_by(shapes: Graph, shape) -> frozenset:
    """Every path (and other side of ``sh:lessThan``) in the shapes reachable from ``shape``: what it may read
    of a focus node, and (through ``sh:node``) of its values, which is more than it reads of the node, never less."""
    read: set = set()
    seen, todo = {shape}, [shape]
    while todo:
        for p, o in shapes.predicate_objects(todo.pop()):
            if p in (SH.path, SH.lessThan, SH.lessThanOrEquals):
                read.add(o)
            elif o not in seen and (o, None, None) in shapes:
                seen.add(o)
                todo.append(o)
    return frozenset(read)


#: A property shape's parameters that judge each value of its path on its own (with the value's types, and
#: what ``sh:node`` and ``sh:or`` shapes read of the value): no count, no comparison with other values.
_PER_VALUE_TERMS = frozenset(SH[name] for name in (
    "path", "class", "datatype", "or", "node", "in", "pattern", "flags", "nodeKind", "minInclusive", "maxInclusive",
    "minExclusive", "maxExclusive", "minLength", "maxLength", "languageIn", "name", "message", "description",
    "severity", "deactivated", "order", "group",
))


def _per_value_paths(shapes: Graph, targets: dict) -> dict:
    """The focus node properties every shape judges value by value, each with the least number of values
    they require (``sh:minCount``, else 0): each shape with that path is a property of a target node shape
    (not inside ``sh:or`` or a value's ``sh:node`` shape) and has only :data:`_PER_VALUE_TERMS` and
    ``sh:minCount``, and no ``sh:lessThan`` compares it. A node that conformed and whose values of such a
    property changed needs checking on its new values of it (and, where none was removed, as many others as
    the count requires) alone."""
    from rdflib.namespace import RDF

    direct = {prop for shape in targets for prop in shapes.objects(shape, SH.property)}
    compared = {o for p in (SH.lessThan, SH.lessThanOrEquals) for o in shapes.objects(None, p)}
    verdict: dict = {}
    least: dict = {}
    for prop, path in shapes.subject_objects(SH.path):
        per_value = prop in direct and all(
            p in _PER_VALUE_TERMS or p == SH.minCount or not str(p).startswith(str(SH))
            for p, _ in shapes.predicate_objects(prop))
        verdict[path] = verdict.get(path, True) and per_value
        for count in shapes.objects(prop, SH.minCount):
            least[path] = max(least.get(path, 0), int(count))
    return {path: least.get(path, 0) for path, per_value in sorted(verdict.items())
            if per_value and path not in compared and path != RDF.type}


def validation_digests() -> BlockDigests | None:
    """An empty :class:`kg.serialize.BlockDigests` for :func:`kg.serialize.write_turtle` to fill, recording
    what :func:`validate_in_parts` reads; None where the shapes are not checked in parts."""
    plan = _local_plan()
    return BlockDigests(plan.value_predicates) if plan is not None else None


def shapes_version() -> str:
    """A hash of the shapes and the ontology (and schemes): a node that passed under one version is known to
    pass while it stays the same."""
    import hashlib

    from kg.ontology import ONTOLOGY_FILES, SHAPES_FILE, data_path

    digest = hashlib.sha256(b"diplograph-validation 1\n")
    for name in (*ONTOLOGY_FILES, SHAPES_FILE):
        digest.update(data_path(name).read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class LocalChecks:
    """What checking a node on its own fragment reads (:func:`validate_in_parts`): the classes whose members
    the shapes check, the properties of a focus node they read, and those of its values."""

    targets: frozenset
    focus: FocusPredicates
    value_predicates: frozenset
    #: focus properties judged value by value (a changed node's new ones suffice), with the least number of values
    #: the shapes require of each
    per_value: dict = field(default_factory=dict)


@functools.cache
def local_checks() -> LocalChecks | None:
    """The :class:`LocalChecks` of the shapes, where every shape is local; None where one is not."""
    plan = _local_plan()
    if plan is None:
        return None
    targets = frozenset().union(*plan.targets.values()) if plan.targets else frozenset()
    return LocalChecks(targets, plan.focus, plan.value_predicates, plan.per_value)


@functools.cache
def _local_plan() -> _Plan | None:
    """The plan of the shapes' local checks (once a process: each part checked on a worker asked for it)."""
    from kg.ontology import ONTOLOGY_FILES, _triples

    ontology = Graph()
    for triple in _triples(ONTOLOGY_FILES):
        ontology.add(triple)
    return _plan(shapes_graph(), ontology)


def validate_in_parts(
    graph: Graph,
    known: set[str] | frozenset[str] = frozenset(),
    part_triples: int = PART_TRIPLES,
    workers: Workers | None = None,
    digests: BlockDigests | None = None,
) -> tuple[ValidationReport, set[str]]:
    """The verdict of :func:`validate` on ``graph``, checking each focus node on its own neighbourhood.

    Every shape of ``ontology/shapes.ttl`` is local: it reads the focus node's triples and the types (and
    the properties a ``sh:node`` shape names) of its values. So a node's verdict depends on that fragment,
    plus the ontology and schemes, alone. Nodes are checked in parts of about ``part_triples`` triples (on
    ``workers`` when given), so a pyshacl call never sees the whole graph; a node whose fragment's fingerprint
    is in ``known`` (from an earlier build that conformed) is not checked again, so a rebuild checks only
    what changed. Returns the report and, when it conforms, the fingerprints of every focus node (the
    ``known`` of the next build; none when it does not conform). Shapes that are not local (a path beyond
    the node, SPARQL constraints) fall back to :func:`validate`.

    A fingerprint is made of the digests of the node's Turtle block and of its values' lines for those
    properties (:class:`kg.serialize.BlockDigests`): ``digests`` recorded while ``graph.ttl`` was written
    (:func:`validation_digests`), else taken here (:func:`kg.serialize.block_digests`).
    """
    import hashlib

    from rdflib import BNode
    from rdflib.namespace import RDF

    plan = _local_plan()
    if plan is None:
        return validate(graph), set()
    every_class = frozenset().union(*plan.targets.values()) if plan.targets else frozenset()
    targeted = sorted({node for cls in every_class for node in graph.subjects(RDF.type, cls)}, key=str)
    if any(isinstance(node, BNode) for node in targeted):
        return validate(graph), set()
    if digests is None or digests.about_predicates != plan.value_predicates:
        digests = block_digests(graph, plan.value_predicates)
    version = shapes_version()
    fingerprints: set[str] = set()
    by_value: dict = {}

    def about_value(value) -> tuple[tuple, ...]:
        """The triples a node's fragment holds about one of its values (shared by many nodes: a person in
        every meeting of theirs, an article in each of its evidence nodes)."""
        found = by_value.get(value)
        if found is None:
            found = tuple(triple for predicate in plan.value_predicates
                          for triple in graph.triples((value, predicate, None)))
            if len(by_value) < VALUE_CACHE_LIMIT:
                by_value[value] = found
        return found

    digest_texts: dict = {}

    def value_digest(value) -> tuple[int, str]:
        """The digest of a value's lines (as a number, which orders a node's values, and as written into its
        fingerprint), remembered: most values are shared by many nodes."""
        found = digest_texts.get(value)
        if found is None:
            digest = digests.about.get(value)
            # a value that is no subject has no lines; a blank node's label differs from one run to the next
            digest = digest if digest is not None else digest64(f"{value}\n")
            found = (digest, f"{digest:x}")
            if len(digest_texts) < VALUE_CACHE_LIMIT:
                digest_texts[value] = found
        return found

    def fragments() -> Iterator[tuple[URIRef, list[tuple]]]:
        grouped = objects_grouper(graph)
        for node in targeted:
            by_predicate = grouped(node)
            values = {o for objects in by_predicate.values() for o in objects
                      if o.__class__ is URIRef or not isinstance(o, Literal)}
            about = sorted(value_digest(value) for value in values)
            fingerprint = hashlib.sha256(
                f"{version}\n{digests.own[node]:x}\n{' '.join(text for _, text in about)}".encode("ascii")
            ).hexdigest()[:32]
            fingerprints.add(fingerprint)
            if fingerprint in known:
                continue
            yield node, node_fragment(node, by_predicate, plan.focus.of(by_predicate.get(RDF.type, ())), about_value)

    # Parts go to the workers as they are cut, so fingerprinting here overlaps checking there.
    in_parallel = workers is not None and len(graph) > part_triples  # one part: not worth the traffic
    report = check_parts(parts_of(fragments(), part_triples), workers if in_parallel else None)
    return report, fingerprints if report.conforms else set()


def node_fragment(node: URIRef, by_predicate: dict, focus_predicates: frozenset, about_value) -> list[tuple]:
    """What a node is checked on: its triples for the properties the shapes read of it (``by_predicate``: its
    objects grouped by predicate), and for each of those values that is no literal, ``about_value(value)``
    (its types and schemes, as triples)."""
    fragment = {(node, p, o) for p, objects in by_predicate.items() if p in focus_predicates for o in objects}
    for value in {o for _, _, o in fragment if not isinstance(o, Literal)}:
        fragment.update(about_value(value))
    return list(fragment)


def parts_of(fragments: Iterable[tuple[URIRef, list[tuple]]], part_triples: int,
             node_weight: int = 0) -> Iterator[list]:
    """Nodes with their fragments, cut into parts of about ``part_triples`` triples (for :func:`check_parts`),
    each node counted as ``node_weight`` triples more (:data:`NODE_WEIGHT`: what checking a node costs
    besides its triples)."""
    part: list[tuple[URIRef, list[tuple]]] = []
    size = 0
    for node, fragment in fragments:
        part.append((node, fragment))
        size += len(fragment) + node_weight
        if size >= part_triples:
            yield part
            part, size = [], 0
    if part:
        yield part


#: pyshacl's time per focus node besides its fragment's triples, in triples' time (measured on a rebuild's
#: new and changed nodes: ~0.34 ms a node and ~9 µs a triple): parts of many small nodes (new articles and
#: their evidence) took three times as long as parts of as many triples in fewer nodes.
NODE_WEIGHT = 40


def check_parts(parts: Iterable[list[tuple[URIRef, list[tuple]]]], workers: Workers | None = None) -> ValidationReport:
    """The verdict on focus nodes given with their fragments (each node with its triples and its values'
    types and schemes, in parts), checked on ``workers`` where given, as they come."""
    outcomes = workers.stream(_check_part, parts) if workers is not None else map(_check_part, parts)
    return _report(outcomes)


class PendingReport:
    """:func:`check_parts` started on a pool: the caller does other work meanwhile, then asks for the
    :meth:`result`, or cancels what has not started where it gives up."""

    def __init__(self, parts: Iterable[list[tuple[URIRef, list[tuple]]]], workers: Workers) -> None:
        self._outcomes = [workers.submit(_check_part, part) for part in parts]

    def result(self) -> ValidationReport:
        return _report(outcome.result() for outcome in self._outcomes)

    def cancel(self) -> None:
        for outcome in self._outcomes:
            outcome.cancel()


def _report(outcomes: Iterable[tuple[bool, list, list[str]]]) -> ValidationReport:
    conforms = True
    violations: list[Violation] = []
    texts: list[str] = []
    for ok, found, text in outcomes:
        conforms = conforms and ok
        violations.extend(found)
        texts.extend(text)
    violations = sorted(set(violations), key=lambda v: (v.focus, v.path, v.rule, v.component, v.value, v.message))
    return ValidationReport(conforms, violations, "\n".join(texts))


@gc_thresholds(DEFAULT_THRESHOLDS)
def _check_part(part: list[tuple[URIRef, list[tuple]]]) -> tuple[bool, list[Violation], list[str]]:
    """pyshacl on some focus nodes, each with its fragment, beside the ontology and schemes (in a worker),
    under the collector's default thresholds: the part's graph holds reference cycles (:mod:`kg.collector`)."""
    import pyshacl
    from rdflib.namespace import RDF

    from kg.ontology import ONTOLOGY_FILES, _triples

    plan = _local_plan()
    assert plan is not None
    pyshacl_shortcuts(PYSHACL_SHORTCUTS)
    freeze_once("validate")  # the shapes and ontology are loaded, the part's graph not yet made (kg.collector)
    checked = Graph()
    bind_prefixes(checked)
    for triple in _triples(ONTOLOGY_FILES):
        checked.add(triple)
    for _, fragment in part:
        for triple in fragment:
            checked.add(triple)
    conforms, violations, texts = True, [], []
    for shape, classes in sorted(plan.targets.items()):
        focus = [node for node, _ in part if any(t in classes for t in checked.objects(node, RDF.type))]
        if not focus:
            continue
        ok, results, text = pyshacl.validate(
            checked, shacl_graph=plan.shapes, use_shapes=[str(shape)], focus_nodes=focus, inference="none",
            abort_on_first=False, allow_infos=True, allow_warnings=True, advanced=False, do_owl_imports=False,
        )
        if not ok:
            conforms = False
            texts.append(str(text))
            violations.extend(_violations(results, plan.shapes, checked))
    return conforms, violations, texts
