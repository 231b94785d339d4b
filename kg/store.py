"""Where SPARQL runs: one factory, two backends, and the persistent store on disk.

:func:`open_store` returns a :class:`Store` with the same interface whatever holds the triples:

- ``backend="oxigraph"`` (the default): pyoxigraph. A directory is the persistent store built by
  :func:`build_store` (opened read-only); a Turtle (or other RDF) file or an rdflib graph is loaded
  into an in-memory Oxigraph store. Oxigraph evaluates queries one to two orders of magnitude faster
  than rdflib (see ``../shared/spec/platform-notes.md``).
- ``backend="rdflib"``: an in-memory :class:`rdflib.Graph` evaluated by rdflib's own engine; meant
  for small graphs and tests.

``store.query(sparql, bindings=None, timeout_s=None, max_rows=None)`` returns a :class:`QueryResult`
whose rows are rdflib terms (``URIRef``, ``Literal``, ``BNode``, ``None`` where unbound), converted one
row at a time as they are read, so a huge result is never converted eagerly.

Parameters (``bindings``) are bound as RDF terms, never spliced into the query text: Oxigraph gets them
as ``substitutions=`` (SPARQL SEP-0007), rdflib as ``initBindings``. To give both engines the same
semantics, a bound variable of a ``SELECT`` query must be one of its result variables (Oxigraph's rule),
and queries test a parameter's presence with ``COALESCE`` rather than ``BOUND`` (see
``queries/README.md``).

Queries are read-only: an update is refused with :class:`kg.errors.QueryError` before it reaches an
engine, and so is ``SERVICE`` (it would make the engine fetch URLs) unless ``allow_service=True``.

>>> store = open_store(None, backend="oxigraph")
>>> store.load(data='<urn:a> <urn:p> "x" .', format="nt")
1
>>> result = store.query("SELECT ?s ?o WHERE { ?s <urn:p> ?o }")
>>> result.variables, [tuple(str(t) for t in row) for row in result]
(['s', 'o'], [('urn:a', 'x')])
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD
from rdflib.term import Node

from kg.errors import QueryError, UserError

__all__ = [
    "QueryResult",
    "QueryTimeout",
    "ResultTooLarge",
    "Store",
    "StoreError",
    "analyse_query",
    "build_store",
    "open_store",
    "store_info",
]

#: Sub-directory of a store directory that holds the Oxigraph (RocksDB) data.
DATA_DIR = "oxigraph"
#: File in a store directory describing what it was built from.
META_FILE = "meta.json"
STORE_FORMAT = "diplograph-store"
STORE_VERSION = 1

_RDF_FORMATS = {
    "ttl": ox.RdfFormat.TURTLE,
    "turtle": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nq": ox.RdfFormat.N_QUADS,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "n3": ox.RdfFormat.N3,
    "rdf": ox.RdfFormat.RDF_XML,
    "xml": ox.RdfFormat.RDF_XML,
    "owl": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
}
_RDFLIB_FORMATS = {
    ox.RdfFormat.TURTLE: "turtle",
    ox.RdfFormat.N_TRIPLES: "nt",
    ox.RdfFormat.N_QUADS: "nquads",
    ox.RdfFormat.TRIG: "trig",
    ox.RdfFormat.N3: "n3",
    ox.RdfFormat.RDF_XML: "xml",
    ox.RdfFormat.JSON_LD: "json-ld",
}


class StoreError(UserError):
    """A store cannot be built, opened or written."""


class QueryTimeout(QueryError):
    """A query ran past its time limit."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(f"query stopped: it ran past the time limit of {timeout_s:g} s")
        self.timeout_s = timeout_s


class ResultTooLarge(QueryError):
    """A query produced more rows than the caller allows."""

    def __init__(self, max_rows: int) -> None:
        super().__init__(f"query stopped: the result has more than {max_rows} rows "
                         "(add a LIMIT or narrow it)")
        self.max_rows = max_rows


class _Cancelled(BaseException):
    """Raised inside an abandoned query thread to stop it at the next Python instruction."""


# --------------------------------------------------------------------------------------------
# Looking at a query before running it
# --------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
               |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<var>[?$][A-Za-z0-9_\u00b7\u00c0-\uffff]+)
  | (?P<word>[A-Za-z_\u00c0-\uffff][A-Za-z0-9_.\-\u00b7\u00c0-\uffff]*(?::[^\s{}()\[\],;"'<>]*)?
             |:[^\s{}()\[\],;"'<>]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
)
_QUERY_FORMS = frozenset({"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"})


@dataclass(frozen=True)
class QueryShape:
    """What a lexical look at a query text tells: its form, its variables, whether it calls out."""

    form: str  # SELECT, CONSTRUCT, DESCRIBE, ASK, UPDATE or UNKNOWN
    variables: tuple[str, ...]
    uses_service: bool

    @property
    def is_update(self) -> bool:
        return self.form == "UPDATE"

    @property
    def returns_graph(self) -> bool:
        return self.form in ("CONSTRUCT", "DESCRIBE")


def analyse_query(sparql: str) -> QueryShape:
    """Find the form of a query (after its prologue), its variables, and any ``SERVICE`` clause.

    Comments, strings and IRIs are skipped, so a ``#`` in an IRI or a keyword in a string does not
    confuse it. It does not validate the query: the engine's parser does that.

    >>> analyse_query("PREFIX s: <http://x#> # SELECT\\nINSERT DATA { s:a s:b 'SERVICE' }").form
    'UPDATE'
    >>> shape = analyse_query("SELECT ?a WHERE { ?a ?p $b } # ?c")
    >>> shape.form, shape.variables, shape.uses_service
    ('SELECT', ('a', 'p', 'b'), False)
    """
    form = None
    variables: dict[str, None] = {}
    uses_service = False
    expect_prologue_args = 0
    for match in _TOKEN.finditer(sparql):
        kind = match.lastgroup
        if kind in ("ws", "comment"):
            continue
        text = match.group()
        if kind == "var":
            variables.setdefault(text[1:], None)
            continue
        if form is None:
            if expect_prologue_args:
                expect_prologue_args -= 1
                continue
            upper = text.upper()
            if kind == "word" and upper == "PREFIX":
                expect_prologue_args = 2
            elif kind == "word" and upper == "BASE":
                expect_prologue_args = 1
            elif kind == "word" and upper in _QUERY_FORMS:
                form = upper
            elif kind == "word" and upper in _UPDATE_KEYWORDS:
                form = "UPDATE"
            else:
                form = "UNKNOWN"
        elif kind == "word" and text.upper() == "SERVICE":
            uses_service = True
    return QueryShape(form or "UNKNOWN", tuple(variables), uses_service)


def where_groups(sparql: str) -> list[tuple[int, int, bool]]:
    """The graph patterns of a query and of its sub-selects: ``(start, end, top_level)`` offsets of
    the text between each ``WHERE`` group's braces.

    A ``CONSTRUCT`` template and the short form ``CONSTRUCT WHERE { … }`` (a template too) are not
    groups one may add to. Comments, strings and IRIs are skipped.

    >>> text = "SELECT ?a { ?a ?p ?o { SELECT ?o WHERE { ?o ?q 1 } } }"
    >>> [(text[s:e].strip()[:8], top) for s, e, top in where_groups(text)]
    [('?a ?p ?o', True), ('?o ?q 1', False)]
    >>> construct = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p 1 }"
    >>> [construct[s:e] for s, e, _ in where_groups(construct)]
    [' ?s ?p 1 ']
    """
    groups: list[tuple[int, int, bool]] = []
    pending: list[list] = []  # [brace depth, paren depth, form, saw WHERE, saw template]
    open_braces: list[int | None] = []  # per open brace: the index in groups it starts, if any
    parens = 0
    for match in _TOKEN.finditer(sparql):
        kind, text = match.lastgroup, match.group()
        if kind == "word":
            upper = text.upper()
            if upper in _QUERY_FORMS:
                pending.append([len(open_braces), parens, upper, False, False])
            elif upper == "WHERE" and pending:
                pending[-1][3] = True
        elif kind == "other":
            if text == "(":
                parens += 1
            elif text == ")":
                parens -= 1
            elif text == "{":
                slot = None
                if pending and pending[-1][0] == len(open_braces) and pending[-1][1] == parens:
                    depth, _, form, saw_where, saw_template = pending[-1]
                    if form == "CONSTRUCT" and not saw_where:
                        pending[-1][4] = True  # the template
                    elif form == "CONSTRUCT" and not saw_template:
                        pending.pop()  # CONSTRUCT WHERE { … }: the pattern is the template
                    else:
                        pending.pop()
                        groups.append((match.end(), -1, depth == 0))
                        slot = len(groups) - 1
                open_braces.append(slot)
            elif text == "}" and open_braces:
                slot = open_braces.pop()
                if slot is not None:
                    start, _, top = groups[slot]
                    groups[slot] = (start, match.start(), top)
    return [group for group in groups if group[1] >= 0]


def with_values(sparql: str, values: Mapping[str, Iterable[Node]], *, everywhere: bool = True) -> str:
    """The query with an inline ``VALUES ?v { … }`` block per variable at the start of its pattern.

    ``everywhere`` also adds the block to each sub-select whose pattern mentions the variable, so the
    variable means the same set of terms wherever it appears; otherwise only the outermost pattern
    gets it. An engine plans from a leading ``VALUES`` as from constants (Oxigraph does not from
    ``substitutions``). Blank nodes cannot be written inline: :class:`QueryError`.

    >>> print(with_values("SELECT ?x WHERE { ?x ?p ?o }", {"x": [URIRef("urn:a"), URIRef("urn:b")]}))
    SELECT ?x WHERE { VALUES ?x { <urn:a> <urn:b> } ?x ?p ?o }
    """
    blocks = {}
    for name, terms in values.items():
        written = []
        for term in terms:
            if isinstance(term, BNode) or not isinstance(term, (URIRef, Literal)):
                raise QueryError(f"cannot write ?{name} = {term!r} into the query: give an IRI or a literal")
            written.append(term.n3())
        blocks[name] = f" VALUES ?{name} {{ {' '.join(written)} }}"
    if not blocks:
        return sparql
    groups = where_groups(sparql)
    if not any(top for _, _, top in groups):
        raise QueryError("cannot bind values: the query has no WHERE pattern")
    mentioned = re.compile(r"[?$]([A-Za-z0-9_\u00b7\u00c0-\uffff]+)")
    inserts: list[tuple[int, str]] = []
    for start, end, top in groups:
        if not top and not everywhere:
            continue
        names = set(mentioned.findall(sparql, start, end)) if not top else set(blocks)
        text = "".join(block for name, block in blocks.items() if name in names)
        if text:
            inserts.append((start, text))
    for position, text in sorted(inserts, reverse=True):
        sparql = f"{sparql[:position]}{text}{sparql[position:]}"
    return sparql


def _check_query(sparql: str, allow_service: bool) -> QueryShape:
    shape = analyse_query(sparql)
    if shape.is_update:
        raise QueryError("updates are refused: this is a read-only query interface "
                         "(SPARQL Update is not accepted)")
    if shape.uses_service and not allow_service:
        raise QueryError("SERVICE (federated query) is refused: queries run on the local graph only")
    return shape


_OX_POSITION = re.compile(r"^error at (\d+):(\d+): ?")


def syntax_error_message(error: BaseException) -> str:
    """A one-line message for a parser error, naming line and column where the parser gives them."""
    lineno = getattr(error, "lineno", None)
    col = getattr(error, "col", None)
    message = str(getattr(error, "msg", "") or error).strip().splitlines()[0] if str(error).strip() else ""
    match = _OX_POSITION.match(str(error))
    if match:
        lineno, col = int(match.group(1)), int(match.group(2))
        message = str(error)[match.end():].strip()
    if lineno is not None and col is not None:
        return f"malformed query at line {lineno}, column {col}: {message}"
    return f"malformed query: {message}"


# --------------------------------------------------------------------------------------------
# Terms
# --------------------------------------------------------------------------------------------

_XSD_STRING = str(XSD.string)
_RDF_LANGSTRING = str(RDF.langString)


class _TermConverter:
    """Converts Oxigraph terms to rdflib terms, remembering recent ones (IRIs and dates repeat a lot)."""

    def __init__(self, capacity: int = 50_000) -> None:
        self._cache: dict[Any, Node] = {}
        self._capacity = capacity

    def __call__(self, term: Any) -> Node | None:
        if term is None:
            return None
        cached = self._cache.get(term)
        if cached is not None:
            return cached
        converted = ox_to_rdflib(term)
        if len(self._cache) >= self._capacity:
            self._cache.clear()
        self._cache[term] = converted
        return converted


def ox_to_rdflib(term: Any) -> Node | None:
    """Convert one Oxigraph term to its rdflib equivalent (xsd:string literals become plain literals)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == _XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype))
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.DefaultGraph):
        return None
    raise QueryError(f"cannot represent the term {term!r} (RDF-star triples are not supported)")


def rdflib_to_ox(term: Node) -> Any:
    """Convert an rdflib term (a parameter value) to the Oxigraph term it stands for."""
    if isinstance(term, URIRef):
        try:
            return ox.NamedNode(str(term))
        except ValueError as error:
            raise QueryError(f"not a valid IRI: <{term}> ({error})") from None
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    raise QueryError(f"cannot bind a parameter to {term!r}: give an IRI or a literal")


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass
class QueryResult:
    """The answer to one query.

    ``kind`` is ``"select"``, ``"ask"`` or ``"graph"`` (CONSTRUCT and DESCRIBE). Iterating a select
    result yields one tuple of rdflib terms per solution, in the order of ``variables`` (``None`` where a
    variable is unbound); a graph result yields ``(subject, predicate, object)`` triples; an ask result
    has ``boolean`` and yields nothing. Rows are converted as they are read and can be read once.
    Reading past ``max_rows`` rows raises :class:`ResultTooLarge`.
    """

    kind: str
    variables: list[str] = field(default_factory=list)
    boolean: bool | None = None
    _rows: Iterable[tuple] = ()
    _convert: Any = None
    max_rows: int | None = None
    _consumed: bool = False

    def __iter__(self) -> Iterator[tuple]:
        if self._consumed:
            raise QueryError("a query result can be read only once")
        self._consumed = True
        return self._generate()

    def _generate(self) -> Iterator[tuple]:
        convert = self._convert
        limit = self.max_rows
        for count, row in enumerate(self._rows, start=1):
            if limit is not None and count > limit:
                raise ResultTooLarge(limit)
            yield tuple(convert(term) for term in row) if convert else tuple(row)

    def rows(self) -> list[tuple]:
        """All rows, read into a list."""
        return list(self)

    def dicts(self) -> list[dict[str, Node]]:
        """Select rows as ``{variable: term}`` dictionaries without the unbound variables."""
        return [{v: t for v, t in zip(self.variables, row, strict=True) if t is not None} for row in self]


# --------------------------------------------------------------------------------------------
# Stores
# --------------------------------------------------------------------------------------------


class Store:
    """The interface both backends share; get one from :func:`open_store`."""

    backend = "?"
    read_only = False
    #: Whether the engine reads an empty ``VALUES ?v { }`` (no solutions); where not, an empty set of
    #: ``values`` is left out and the query alone decides (rdflib 7 fails on the empty block).
    empty_values = True
    location: str = "memory"

    def query(
        self,
        sparql: str,
        bindings: Mapping[str, Node] | None = None,
        timeout_s: float | None = None,
        max_rows: int | None = None,
        *,
        allow_service: bool = False,
        values: Mapping[str, Iterable[Node]] | None = None,
    ) -> QueryResult:
        """Run a read-only SPARQL query.

        ``bindings`` maps variable names (without ``?``) to rdflib terms. ``values`` maps variable names
        to sets of terms, written into the query as ``VALUES`` blocks (:func:`with_values`): the variable
        takes each of them, in the query's pattern and in every sub-select that mentions it (an empty
        set gives no solutions). ``timeout_s`` limits the
        time to compute the answer: the query runs in a worker thread, which is abandoned and asked to
        stop when the limit passes (rdflib stops at once; Oxigraph at the end of the step it is in),
        and :class:`QueryTimeout` is raised. With a time limit the rows are computed (not converted)
        within it; without one they are computed as they are read. ``max_rows`` makes reading past
        that many rows raise :class:`ResultTooLarge`.
        """
        shape = _check_query(sparql, allow_service)
        bindings = dict(bindings or {})
        for name in [*bindings, *(values or {})]:
            if name not in shape.variables:
                raise QueryError(f"cannot bind ?{name}: the query has no variable of that name")
        if values:
            sets = {name: tuple(terms) for name, terms in values.items()}
            sparql = with_values(sparql, {name: terms for name, terms in sets.items() if terms or self.empty_values})
        if timeout_s is None:
            return self._execute(sparql, bindings, max_rows, shape)
        return _run_with_time_limit(
            lambda: self._execute(sparql, bindings, max_rows, shape), timeout_s, max_rows
        )

    def load(self, source: str | os.PathLike | None = None, *, data: str | bytes | None = None,
             format: str | None = None) -> int:
        """Add the triples of an RDF file (``source``) or of ``data`` in ``format``; returns how many."""
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        """Release the store (a persistent one is closed once nothing else refers to it)."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _execute(self, sparql: str, bindings: dict[str, Node], max_rows: int | None,
                 shape: QueryShape) -> QueryResult:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} backend={self.backend} location={self.location}>"


def _format_of(source: str | os.PathLike | None, format: str | None) -> ox.RdfFormat:
    key = (format or "").lower().lstrip(".")
    if not key and source is not None:
        key = Path(source).suffix.lower().lstrip(".")
    if key in _RDF_FORMATS:
        return _RDF_FORMATS[key]
    given = format or Path(str(source)).suffix
    raise StoreError(f"unknown RDF format {given!r}: use one of {sorted(_RDF_FORMATS)}")


class OxigraphStore(Store):
    """An Oxigraph store: in memory, or the persistent store on disk."""

    backend = "oxigraph"

    def __init__(self, store: ox.Store, *, read_only: bool = False, location: str = "memory") -> None:
        self._store = store
        self.read_only = read_only
        self.location = location

    @property
    def native(self) -> ox.Store:
        """The underlying :class:`pyoxigraph.Store` (for serialising results natively)."""
        return self._store

    def load(self, source=None, *, data=None, format=None) -> int:
        if self.read_only:
            raise StoreError(f"the store at {self.location} is open read-only; rebuild it with build_store()")
        rdf_format = _format_of(source, format)
        before = len(self._store)
        try:
            if data is not None:
                self._store.load(data, rdf_format)
            else:
                self._store.load(path=str(source), format=rdf_format)
        except SyntaxError as error:
            raise StoreError(f"{source or 'data'}: not valid {rdf_format.name}: {error}") from None
        except OSError as error:
            raise StoreError(f"{source or 'data'}: cannot load: {error}") from None
        return len(self._store) - before

    def __len__(self) -> int:
        return len(self._store)

    def close(self) -> None:
        self._store = None  # type: ignore[assignment]

    def _execute(self, sparql, bindings, max_rows, shape) -> QueryResult:
        if self._store is None:
            raise StoreError("the store is closed")
        substitutions = {ox.Variable(name): rdflib_to_ox(term) for name, term in bindings.items()}
        constants = {name: [term] for name, term in bindings.items() if isinstance(term, (URIRef, Literal))}
        if constants and shape.form == "SELECT":
            # the same values again as a leading VALUES block: Oxigraph plans from those as from
            # constants, not from substitutions (a person's meetings: 290 ms -> 8 ms at 10^6 triples)
            with contextlib.suppress(QueryError):  # no WHERE pattern to put them in: substitutions only
                sparql = with_values(sparql, constants, everywhere=False)
        try:
            answer = self._store.query(sparql, substitutions=substitutions or None)
        except SyntaxError as error:
            raise QueryError(syntax_error_message(error)) from None
        except RuntimeError as error:  # e.g. a substituted variable that is not projected
            raise QueryError(_explain_runtime_error(error)) from None
        except OSError as error:
            raise QueryError(f"query failed: {error}") from None
        if isinstance(answer, ox.QueryBoolean):
            return QueryResult("ask", boolean=bool(answer))
        convert = _TermConverter()
        if isinstance(answer, ox.QuerySolutions):
            variables = [v.value for v in answer.variables]
            return QueryResult("select", variables, _rows=_guard(answer), _convert=convert, max_rows=max_rows)
        triples = ((t.subject, t.predicate, t.object) for t in _guard(answer))
        return QueryResult("graph", ["subject", "predicate", "object"], _rows=triples, _convert=convert,
                           max_rows=max_rows)


def _explain_runtime_error(error: BaseException) -> str:
    text = str(error)
    match = re.search(r"does not contains? variable \?(\w+) in its SELECT projection", text)
    if match:
        return (f"cannot bind ?{match.group(1)}: a parameter of a SELECT query must be one of its result "
                f"variables (add ?{match.group(1)} to the SELECT clause, and to GROUP BY if it groups)")
    return f"query failed: {text}"


def _guard(rows: Iterable) -> Iterator:
    """Iterate engine rows, turning the engine's evaluation errors into :class:`QueryError`."""
    iterator = iter(rows)
    while True:
        try:
            row = next(iterator)
        except StopIteration:
            return
        except (OSError, RuntimeError, ValueError) as error:
            raise QueryError(f"query failed: {error}") from None
        yield row


class RdflibStore(Store):
    """An in-memory rdflib graph queried by rdflib's own SPARQL engine (small graphs, tests)."""

    backend = "rdflib"
    empty_values = False

    def __init__(self, graph: Graph, location: str = "memory") -> None:
        self.graph = graph
        self.location = location

    def load(self, source=None, *, data=None, format=None) -> int:
        rdflib_format = _RDFLIB_FORMATS[_format_of(source, format)]
        before = len(self.graph)
        try:
            if data is not None:
                self.graph.parse(data=data, format=rdflib_format)
            else:
                self.graph.parse(str(source), format=rdflib_format)
        except Exception as error:  # rdflib raises many parser-specific exception types
            raise StoreError(f"{source or 'data'}: cannot load: {error}") from None
        return len(self.graph) - before

    def __len__(self) -> int:
        return len(self.graph)

    def _execute(self, sparql, bindings, max_rows, shape) -> QueryResult:
        from rdflib.plugins.sparql import prepareQuery

        try:
            prepared = prepareQuery(sparql)
        except Exception as error:  # pyparsing.ParseException and friends
            raise QueryError(syntax_error_message(error)) from None
        if bindings and shape.form == "SELECT":
            projected = {str(v) for v in (prepared.algebra.get("PV") or [])}
            for name in bindings:
                if name not in projected:
                    raise QueryError(_explain_runtime_error(
                        RuntimeError(f"does not contains variable ?{name} in its SELECT projection")))
        try:
            answer = self.graph.query(prepared, initBindings=bindings or None)
        except Exception as error:
            raise QueryError(f"query failed: {error}") from None
        if answer.type == "ASK":
            return QueryResult("ask", boolean=bool(answer.askAnswer))
        if answer.type == "SELECT":
            variables = [str(v) for v in answer.vars or []]
            rows = (tuple(row) for row in _guard_rdflib(answer))
            return QueryResult("select", variables, _rows=rows, max_rows=max_rows)
        graph = answer.graph if answer.graph is not None else Graph()
        return QueryResult("graph", ["subject", "predicate", "object"], _rows=iter(graph), max_rows=max_rows)


def _guard_rdflib(answer) -> Iterator:
    iterator = iter(answer)
    while True:
        try:
            row = next(iterator)
        except StopIteration:
            return
        except _Cancelled:
            raise
        except Exception as error:
            raise QueryError(f"query failed: {error}") from None
        yield row


def _run_with_time_limit(execute, timeout_s: float, max_rows: int | None) -> QueryResult:
    """Compute a result in a worker thread within ``timeout_s`` seconds, or abandon it."""
    outcome: dict[str, Any] = {}
    cancelled = threading.Event()

    def work() -> None:
        try:
            result = execute()
            collected = []
            limit = None if max_rows is None else max_rows + 1
            for row in result._rows:
                if cancelled.is_set():
                    return
                collected.append(row)
                if limit is not None and len(collected) >= limit:
                    break
            result._rows = collected
            outcome["result"] = result
        except _Cancelled:
            return
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error

    worker = threading.Thread(target=work, name="diplograph-query", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        cancelled.set()
        if worker.ident is not None:  # stop pure-Python evaluation (rdflib) at its next instruction
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(worker.ident), ctypes.py_object(_Cancelled)
            )
        raise QueryTimeout(timeout_s)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


# --------------------------------------------------------------------------------------------
# Opening and building
# --------------------------------------------------------------------------------------------


def open_store(path_or_graph: Any = None, backend: str = "oxigraph", *, read_only: bool = True) -> Store:
    """Open a store over a persistent store directory, an RDF file, a graph, or nothing (empty).

    - a directory: the persistent Oxigraph store written by :func:`build_store` (``backend`` must be
      ``"oxigraph"``); opened read-only unless ``read_only=False``, so any number of processes can query
      it at once;
    - an RDF file (``.ttl``, ``.nt``, ``.nq``, ``.trig``, ``.rdf``, ``.jsonld``): loaded into memory;
    - an :class:`rdflib.Graph`: wrapped as is (``"rdflib"``) or copied into Oxigraph (``"oxigraph"``);
    - a :class:`pyoxigraph.Store`: wrapped (``"oxigraph"`` only);
    - ``None``: an empty in-memory store, to :meth:`Store.load` into.
    """
    if backend not in ("oxigraph", "rdflib"):
        raise StoreError(f"unknown backend {backend!r}: use 'oxigraph' or 'rdflib'")
    if isinstance(path_or_graph, Store):
        return path_or_graph
    if isinstance(path_or_graph, ox.Store):
        if backend != "oxigraph":
            raise StoreError("a pyoxigraph.Store can only be used with the oxigraph backend")
        return OxigraphStore(path_or_graph)
    if isinstance(path_or_graph, Graph):
        if backend == "rdflib":
            return RdflibStore(path_or_graph)
        store = ox.Store()
        store.extend(
            ox.Quad(rdflib_to_ox(s), rdflib_to_ox(p), rdflib_to_ox(o), ox.DefaultGraph())
            for s, p, o in path_or_graph
        )
        return OxigraphStore(store)
    if path_or_graph is None:
        return OxigraphStore(ox.Store()) if backend == "oxigraph" else RdflibStore(Graph())
    path = Path(path_or_graph)
    _recover_interrupted_swap(path)
    if path.is_dir():
        if backend != "oxigraph":
            raise StoreError(f"{path}: a store directory can only be opened with the oxigraph backend")
        data_dir = _data_dir(path)
        try:
            store = ox.Store.read_only(str(data_dir)) if read_only else ox.Store(str(data_dir))
        except OSError as error:
            raise StoreError(f"{path}: cannot open the store: {error}") from None
        return OxigraphStore(store, read_only=read_only, location=str(path))
    if not path.exists():
        raise StoreError(f"{path}: no such store directory or RDF file")
    opened: Store = OxigraphStore(ox.Store()) if backend == "oxigraph" else RdflibStore(Graph())
    opened.load(path)
    opened.location = str(path)
    return opened


def _data_dir(store_dir: Path) -> Path:
    if (store_dir / DATA_DIR).is_dir():
        return store_dir / DATA_DIR
    if (store_dir / "CURRENT").is_file():  # a bare Oxigraph directory (e.g. from `oxigraph load`)
        return store_dir
    raise StoreError(f"{store_dir}: not a diplograph store "
                     "(build one with `diplograph build` or build_store())")


def store_info(store_dir: str | os.PathLike) -> dict[str, Any]:
    """What a store directory says about itself (its ``meta.json``), or ``{}`` for a bare one."""
    try:
        return json.loads((Path(store_dir) / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def build_store(ttl_path: str | os.PathLike, store_dir: str | os.PathLike) -> dict[str, Any]:
    """Build the persistent Oxigraph store at ``store_dir`` from the RDF file ``ttl_path``, atomically.

    The store is built in a fresh directory beside ``store_dir`` (same file system) and checked; only
    then does it take the place of ``store_dir``. The swap is one atomic ``renameat2(RENAME_EXCHANGE)``
    where the file system supports it, else two renames whose interrupted state is repaired the next
    time the store is opened or built. A crash or a bad input therefore leaves the previous store
    intact. Readers that already have the old store open keep reading it until they close it (restart a
    long-running ``diplograph serve`` after a rebuild).

    The directory holds ``oxigraph/`` (the RocksDB data) and ``meta.json``. Returns the metadata:
    ``{"format", "version", "triples", "source", "source_sha256", "built_at"}``.

    Typical use, after writing ``exports/graph.ttl``::

        build_store("exports/graph.ttl", "exports/store")
    """
    source = Path(ttl_path)
    target = Path(store_dir)
    if not source.is_file():
        raise StoreError(f"{source}: no such file")
    rdf_format = _format_of(source, None)
    target.parent.mkdir(parents=True, exist_ok=True)
    _recover_interrupted_swap(target)
    _remove_abandoned_staging(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.build-{os.getpid()}-", dir=target.parent))
    try:
        store = ox.Store(str(staging / DATA_DIR))
        try:
            store.bulk_load(path=str(source), format=rdf_format)
        except SyntaxError as error:
            raise StoreError(f"{source}: not valid {rdf_format.name}: {error}") from None
        store.flush()
        store.optimize()
        triples = len(store)
        del store  # closes RocksDB before the directory moves
        meta = {
            "format": STORE_FORMAT,
            "version": STORE_VERSION,
            "triples": triples,
            "source": source.name,
            "source_sha256": file_sha256(source),
            "built_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        }
        (staging / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        check = ox.Store.read_only(str(staging / DATA_DIR))
        if len(check) != triples:
            raise StoreError(f"the built store reads back {len(check)} triples, expected {triples}")
        del check
        _swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return meta


def patch_store(
    store_dir: str | os.PathLike,
    ttl_path: str | os.PathLike,
    *,
    expected_sha256: str,
    replaced: Iterable[str],
    blocks: Iterable[str],
    triples: int,
    previous: Mapping[str, str] | None = None,
    source_sha256: str | None = None,
) -> dict[str, Any] | None:
    """Bring the store at ``store_dir`` from the graph it was built from to the one now in ``ttl_path``
    by replacing some subjects, in one transaction; return the new metadata, or None (nothing changed)
    where the store is not the one expected: then :func:`build_store`.

    The store must hold the Turtle whose SHA-256 is ``expected_sha256`` (its ``meta.json`` says so). The
    subjects in ``replaced`` (IRIs) get the triples of the Turtle ``blocks`` instead of their own: only the
    difference (a changed person keeps most of its triples) is deleted and inserted, in one SPARQL update,
    which Oxigraph applies whole or not at all; then ``meta.json`` names the new file. With ``previous``
    (IRI -> the block the store's graph has for it, for each replaced subject it has), the difference is
    taken between the blocks' statements (:func:`kg.serialize.block_statements`) without reading the store. A store
    another process holds open for writing (a running ``diplograph serve``) cannot be patched. A build
    killed between the update and ``meta.json`` leaves a store whose metadata no longer matches: the next
    build rebuilds it. ``triples`` is the size of the new graph (counting a store of 10^7 triples would
    scan it); ``source_sha256`` the SHA-256 of ``ttl_path`` where the caller knows it (it just wrote it)."""
    from kg.serialize import write_atomic
    from kg.vocab import PREFIXES

    target = Path(store_dir)
    source = Path(ttl_path)
    meta = store_info(target)
    if (meta.get("format") != STORE_FORMAT or meta.get("version") != STORE_VERSION
            or meta.get("source_sha256") != expected_sha256 or not (target / DATA_DIR).is_dir()):
        return None
    header = "".join(f"PREFIX {name}: <{ns}>\n" for name, ns in PREFIXES.items())
    inserted: set = set()
    if previous is not None:
        from kg.serialize import block_difference, block_statements

        # a subject's old and new block compared with each other (the first line of a block is its subject)
        wanted = set(replaced)
        before = {block.split("\n", 1)[0]: block for iri, block in previous.items() if iri in wanted}
        held = set()
        for block in blocks:
            old = before.pop(block.split("\n", 1)[0], None)
            if old is None:
                inserted |= block_statements(block)
            else:
                gone, added = block_difference(old, block)
                held |= gone
                inserted |= added
        for old in before.values():
            held |= block_statements(old)
    else:
        try:
            inserted = {f"{quad.triple} ." for quad in ox.parse(input=(header + "".join(blocks)).encode("utf-8"),
                                                                 format=ox.RdfFormat.TURTLE)}
        except SyntaxError:
            return None
    try:
        store = ox.Store(str(target / DATA_DIR))
    except OSError:  # locked by another writer
        return None
    try:
        if previous is None:
            held = {f"{quad.triple} ." for iri in replaced
                    for quad in store.quads_for_pattern(ox.NamedNode(iri), None, None, ox.DefaultGraph())}
        update = []
        if held - inserted:
            update.append("DELETE DATA {\n" + "\n".join(sorted(held - inserted)) + "\n}")
        if inserted - held:
            update.append("INSERT DATA {\n" + "\n".join(sorted(inserted - held)) + "\n}")
        if update:
            store.update(" ;\n".join(update), prefixes={name: str(ns) for name, ns in PREFIXES.items()})
        store.flush()
    except (SyntaxError, OSError, ValueError):  # nothing was applied: the caller builds the store afresh
        return None
    finally:
        del store
    meta = {**meta, "triples": triples, "source": source.name, "source_sha256": source_sha256 or file_sha256(source),
            "built_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
    write_atomic(target / META_FILE, (json.dumps(meta, indent=2) + "\n").encode("utf-8"))
    return meta


def _remove_abandoned_staging(target: Path) -> None:
    """Delete the staging folders of builds that were killed (their process no longer runs).

    A build names its staging folder after its process id; a folder of a live process (a concurrent
    build) is left alone, and so is one without a process id in its name.
    """
    for staging in target.parent.glob(f".{target.name}.build-*"):
        match = re.fullmatch(rf"\.{re.escape(target.name)}\.build-(\d+)-\w+", staging.name)
        if not match or not staging.is_dir() or int(match[1]) == os.getpid():
            continue
        try:
            os.kill(int(match[1]), 0)
        except ProcessLookupError:
            shutil.rmtree(staging, ignore_errors=True)
        except (PermissionError, OverflowError, OSError):  # alive under another user, or not a pid
            continue


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read a megabyte at a time (graph.ttl runs to hundreds of MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2``); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    return renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0


def _swap_into_place(staging: Path, target: Path) -> None:
    if not target.exists() and not target.is_symlink():
        os.rename(staging, target)
        return
    if _exchange(staging, target):  # staging now holds the previous store
        shutil.rmtree(staging, ignore_errors=True)
        return
    backup = target.parent / f".{target.name}.previous-{os.getpid()}-{int(time.time())}"
    os.rename(target, backup)
    os.rename(staging, target)  # a crash between the two renames is repaired by _recover_interrupted_swap
    shutil.rmtree(backup, ignore_errors=True)


def _recover_interrupted_swap(target: Path) -> None:
    """Put the previous store back if a build died between its two renames."""
    if target.exists() or not target.parent.is_dir():
        return
    backups = sorted(target.parent.glob(f".{target.name}.previous-*"), key=lambda p: p.stat().st_mtime)
    if backups:
        os.rename(backups[-1], target)
