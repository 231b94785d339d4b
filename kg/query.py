"""Named queries, parameters, and writing results in the standard SPARQL formats.

The named queries are the ``.rq`` files of ``queries/``; each starts with a header of ``#`` comments
(see ``queries/README.md``) that :func:`parse_header` reads: a title, what it answers, its parameters
(required or optional) and an example command.

A name resolves only to a file inside the queries folder: names with a path separator, ``..``, or a
symbolic link that leads out of the folder are refused. An explicit file (an existing path ending in
``.rq`` or ``.sparql``) may be run as well.

``--param name=value`` values become RDF terms (:func:`parse_param_value`) which the store binds to the
variable; they are never pasted into the query text.

Results are written as the W3C SPARQL 1.1 Query Results JSON, XML, CSV and TSV formats, as a readable
aligned table, and (CONSTRUCT/DESCRIBE) as Turtle, N-Triples, JSON-LD or RDF/XML.

>>> parse_param("from=2024-06-01")
('from', rdflib.term.Literal('2024-06-01', datatype=rdflib.term.URIRef('http://www.w3.org/2001/XMLSchema#date')))
>>> parse_param("?actor=<https://w3id.org/diplograph/id/state/KZ>")[1]
rdflib.term.URIRef('https://w3id.org/diplograph/id/state/KZ')
>>> parse_param("topic=topic:security")[1]
rdflib.term.URIRef('https://w3id.org/diplograph/topic/security')
>>> parse_param("n=42")[1].datatype == XSD.integer, parse_param("name=Ian Borg")[1]
(True, rdflib.term.Literal('Ian Borg'))
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from kg.errors import QueryError
from kg.store import QueryResult, Store, analyse_query
from kg.vocab import PREFIXES, bind_prefixes

__all__ = [
    "FORMATS",
    "NamedQuery",
    "Param",
    "list_queries",
    "load_query",
    "parse_header",
    "parse_param",
    "parse_param_value",
    "queries_dir",
    "resolve_query_name",
    "run_named",
    "write_result",
]

QUERY_SUFFIXES = (".rq", ".sparql")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,100}$")
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# --------------------------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------------------------


def queries_dir() -> Path:
    """The named-query folder: ``$DIPLOGRAPH_QUERIES``, else ``queries/`` beside the package or in the cwd."""
    env = os.environ.get("DIPLOGRAPH_QUERIES")
    if env:
        return Path(env)
    beside = Path(__file__).resolve().parent.parent / "queries"
    if beside.is_dir():
        return beside
    return Path.cwd() / "queries"


@dataclass(frozen=True)
class Param:
    """A documented parameter of a named query."""

    name: str
    required: bool
    kind: str
    description: str
    #: For an "IRI or name" (or "notation", "string") parameter, the variable that stands for what it denotes
    #: (written ``(required, IRI or name -> ?matched)`` in the header): :func:`run_named` binds it to that
    #: (:func:`resolve_names`).
    resolves: str = ""

    def as_dict(self) -> dict:
        return {"name": self.name, "required": self.required, "kind": self.kind,
                "description": self.description}


@dataclass(frozen=True)
class NamedQuery:
    """A query file with what its header says about it."""

    name: str
    path: Path
    text: str
    title: str
    answers: str
    params: tuple[Param, ...]
    examples: tuple[str, ...]

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.required)

    def as_dict(self) -> dict:
        """A JSON-ready description (no filesystem path)."""
        return {
            "name": self.name,
            "title": self.title,
            "answers": self.answers,
            "params": [p.as_dict() for p in self.params],
            "examples": list(self.examples),
            "query": self.text,
        }


_PARAM_LINE = re.compile(
    r"^\?(?P<name>\w+)\s+\((?P<flag>required|optional)(?:,\s*(?P<kind>[^)]*))?\)\s*(?P<desc>.*)$"
)


def parse_header(text: str) -> tuple[str, str, tuple[Param, ...], tuple[str, ...]]:
    """Read ``(title, answers, params, examples)`` from the leading ``#`` comment lines of a query.

    >>> head = "# x — the title.\\n#\\n# Answers: a thing\\n#   more.\\n# Parameters:\\n"
    >>> head += "#   ?a  (required, IRI) the a\\n# Example: diplograph query x --param a=1\\nSELECT * {}"
    >>> title, answers, params, examples = parse_header(head)
    >>> title, answers, params[0].name, params[0].required, params[0].kind, examples
    ('the title.', 'a thing more.', 'a', True, 'IRI', ('diplograph query x --param a=1',))
    """
    lines: list[tuple[int, str]] = []  # (indentation after "#", text)
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            break
        body = stripped[1:]
        lines.append((len(body) - len(body.lstrip()), body.strip()))
    title = ""
    if lines:
        first = lines[0][1]
        title = re.split(r"\s+[—–-]\s+", first, maxsplit=1)[-1] if re.search(r"\s[—–-]\s", first) else first
    answers: list[str] = []
    params: list[Param] = []
    examples: list[str] = []
    section = None
    param_indent = example_indent = 0
    for indent, line in lines[1:]:
        if line.startswith("Answers:"):
            section = "answers"
            line = line[len("Answers:"):].strip()
        elif line.startswith("Parameters:"):
            section = "params"
            continue  # "Parameters: none (...)" documents no parameter
        elif line.startswith("Example:"):
            section = "example"
            example_indent = indent
            examples.append(line[len("Example:"):].strip())
            continue
        if not line:
            continue
        if section == "answers":
            answers.append(line)
        elif section == "params":
            match = _PARAM_LINE.match(line)
            if match:
                kind, _, resolves = (match["kind"] or "").partition("->")
                params.append(Param(match["name"], match["flag"] == "required", kind.strip(),
                                    match["desc"].strip(), resolves.strip().lstrip("?$")))
                param_indent = indent
            elif params and indent > param_indent:  # a continuation of the parameter above
                params[-1] = _extend(params[-1], line)
            else:  # a note about the parameters
                section = "notes"
        elif section == "example" and indent > example_indent:
            examples[-1] = f"{examples[-1]} {line}"
        else:
            section = "notes"
    return title, " ".join(answers), tuple(params), tuple(examples)


def _extend(param: Param, more: str) -> Param:
    return Param(param.name, param.required, param.kind, f"{param.description} {more}".strip(), param.resolves)


def load_query(path: Path, name: str | None = None) -> NamedQuery:
    """Read a query file and its header."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise QueryError(f"{path}: cannot read the query: {error}") from None
    title, answers, params, examples = parse_header(text)
    return NamedQuery(name or Path(path).stem, Path(path), text, title, answers, params, examples)


def list_queries(directory: Path | None = None) -> list[NamedQuery]:
    """Every named query of the folder, by name (files whose links lead out of it are skipped)."""
    directory = Path(directory or queries_dir())
    found = []
    for path in sorted(directory.glob("*.rq"), key=lambda p: p.stem):
        try:
            found.append(resolve_query_name(path.stem, directory))
        except QueryError:
            continue
    return found


def resolve_query_name(name: str, directory: Path | None = None) -> NamedQuery:
    """The named query ``name`` (with or without ``.rq``) of the folder, refusing anything outside it.

    >>> resolve_query_name("../etc/passwd")
    Traceback (most recent call last):
    ...
    kg.errors.QueryError: '../etc/passwd' is not a query name: a name is letters, digits, '-' and '_' \
(see `diplograph query --list`)
    """
    directory = Path(directory or queries_dir())
    stem = name[:-3] if name.endswith(".rq") else name
    if not _NAME.match(stem):
        raise QueryError(f"{name!r} is not a query name: a name is letters, digits, '-' and '_' "
                         "(see `diplograph query --list`)")
    root = directory.resolve()
    candidate = directory / f"{stem}.rq"
    if not candidate.exists():
        raise QueryError(f"no query named {stem!r} (see `diplograph query --list`)")
    resolved = candidate.resolve()
    try:
        resolved.relative_to(root)
    except ValueError:
        raise QueryError(f"query {stem!r} refused: its file leads outside the queries folder") from None
    if not resolved.is_file():
        raise QueryError(f"query {stem!r} is not a file")
    return load_query(resolved, stem)


def resolve_query_arg(arg: str, directory: Path | None = None) -> NamedQuery:
    """A query name, or else an explicit path to an existing ``.rq``/``.sparql`` file."""
    stem = arg[:-3] if arg.endswith(".rq") else arg
    if _NAME.match(stem):
        try:
            return resolve_query_name(arg, directory)
        except QueryError:
            if not (arg.endswith(QUERY_SUFFIXES) and Path(arg).is_file()):
                raise
    path = Path(arg)
    if arg.endswith(QUERY_SUFFIXES) and path.is_file():
        return load_query(path, str(path))
    if _NAME.match(stem):
        raise QueryError(f"no query named {stem!r} (see `diplograph query --list`)")
    raise QueryError(f"{arg!r} is neither a query name (letters, digits, '-', '_') nor an existing "
                     f"{' or '.join(QUERY_SUFFIXES)} file")


# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------

_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_ABSOLUTE_IRI = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://\S+|urn:\S+)$")
_PNAME = re.compile(r"^(?P<prefix>[A-Za-z][\w.-]*):(?P<local>[^\s]*)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INTEGER = re.compile(r"^[+-]?\d{1,30}$")


def _iri(text: str) -> URIRef:
    if not text or _IRI_FORBIDDEN.search(text) or ":" not in text:
        raise QueryError(f"not a valid absolute IRI: <{text}>")
    return URIRef(text)


def parse_param_value(value: str) -> Node:
    """Turn a ``--param`` value into an RDF term (see the table in ``queries/README.md``)."""
    if value.startswith("<") and value.endswith(">"):
        return _iri(value[1:-1])
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return Literal(value[1:-1])
    if _ABSOLUTE_IRI.match(value):
        return _iri(value)
    pname = _PNAME.match(value)
    if pname and pname["prefix"] in PREFIXES and not pname["local"].startswith("//"):
        return _iri(str(PREFIXES[pname["prefix"]]) + pname["local"])
    if _DATE.match(value):
        try:
            _dt.date.fromisoformat(value)
        except ValueError:
            raise QueryError(f"not a valid date: {value} (write YYYY-MM-DD)") from None
        return Literal(value, datatype=XSD.date)
    if _INTEGER.match(value):
        return Literal(str(int(value)), datatype=XSD.integer)
    return Literal(value)


def parse_param(text: str) -> tuple[str, Node]:
    """Split ``name=value`` (``?name`` and ``$name`` work too) and convert the value."""
    name, sep, value = text.partition("=")
    name = name.strip().lstrip("?$")
    if not sep or not _VAR_NAME.match(name):
        raise QueryError(f"bad parameter {text!r}: write name=value, e.g. --param from=2024-01-01")
    return name, parse_param_value(value)


def check_params(query: NamedQuery, bindings: dict[str, Node]) -> None:
    """Refuse unknown parameters and missing required ones, naming what the query accepts."""
    variables = set(analyse_query(query.text).variables)
    documented = {p.name for p in query.params}
    for name in bindings:
        if name not in variables:
            accepted = ", ".join(f"?{n}" for n in sorted(documented)) or "none"
            raise QueryError(f"query {query.name!r} has no variable ?{name} (its parameters: {accepted})")
    for param in query.params:
        if param.required and param.name not in bindings:
            raise QueryError(f"query {query.name!r} needs --param {param.name}=VALUE "
                             f"({param.kind}): {param.description}".rstrip())


_NAME_KEY_LOOKUP = """PREFIX dg: <https://w3id.org/diplograph/ontology#>
SELECT DISTINCT ?actor ?key WHERE { ?actor dg:nameKey ?key }"""
_HAS_NAME_KEYS = "PREFIX dg: <https://w3id.org/diplograph/ontology#> ASK { ?actor dg:nameKey ?key }"
_LABEL_SCAN = """PREFIX dg: <https://w3id.org/diplograph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?actor ?key WHERE {
  ?actor rdfs:label|skos:prefLabel|skos:altLabel|dg:isoCode ?name
  FILTER(LCASE(STR(?name)) = ?key)
}"""


def actors_named(store: Store, name: str) -> tuple[URIRef, ...]:
    """The IRIs whose name, ignoring case, is ``name``: an index lookup of ``dg:nameKey`` (the lower-cased
    labels and ISO codes the build writes for every actor), or a scan of every label on a graph
    without name keys. Sorted, so runs are reproducible.

    >>> from kg.store import open_store
    >>> store = open_store(None, backend="oxigraph")
    >>> _ = store.load(data='<urn:x> <http://www.w3.org/2000/01/rdf-schema#label> "Ian Borg"@en .', format="nt")
    >>> actors_named(store, "ian BORG")
    (rdflib.term.URIRef('urn:x'),)
    """
    key = {"key": Literal(name.lower())}
    found = [row[0] for row in store.query(_NAME_KEY_LOOKUP, key)]
    if not found and not store.query(_HAS_NAME_KEYS).boolean:
        found = [row[0] for row in store.query(_LABEL_SCAN, key)]
    return tuple(sorted({term for term in found if isinstance(term, URIRef)}))


_NOTATION_SCAN = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?concept ?key WHERE { ?concept skos:notation ?notation FILTER(STR(?notation) = ?key) }"""


def concepts_noted(store: Store, notation: str) -> tuple[URIRef, ...]:
    """The concepts (topics, roles) whose ``skos:notation`` is ``notation``; sorted."""
    found = store.query(_NOTATION_SCAN, {"key": Literal(notation)})
    return tuple(sorted({row[0] for row in found if isinstance(row[0], URIRef)}))


_NAME_KEY_SEARCH = """PREFIX dg: <https://w3id.org/diplograph/ontology#>
SELECT DISTINCT ?actor ?text WHERE { ?actor dg:nameKey ?key FILTER(CONTAINS(?key, ?text)) }"""
#: Past this many actors, a "string -> ?v" parameter is not bound (the query's own scan of the labels is then
#: quicker than a ``VALUES`` block that long).
MAX_SEARCH_BINDINGS = 2000


def actors_containing(store: Store, text: str) -> tuple[URIRef, ...] | None:
    """The IRIs of the actors with a name that contains ``text``, ignoring case: a scan of ``dg:nameKey``
    (the actors' lower-cased names, a fraction of a graph's labels; ISO codes too, so a few more actors than
    a search of labels finds, which the query's own test leaves out). Sorted; ``None`` where the graph
    has no name keys or more than :data:`MAX_SEARCH_BINDINGS` actors match: the query scans the labels then.

    >>> from kg.store import open_store
    >>> store = open_store(None, backend="oxigraph")
    >>> _ = store.load(data='<urn:x> <https://w3id.org/diplograph/ontology#nameKey> "ian borg" .', format="nt")
    >>> actors_containing(store, "BORG"), actors_containing(store, "lavrov")
    ((rdflib.term.URIRef('urn:x'),), ())
    """
    found = [row[0] for row in store.query(_NAME_KEY_SEARCH, {"text": Literal(text.lower())})]
    if (not found and not store.query(_HAS_NAME_KEYS).boolean) or len(found) > MAX_SEARCH_BINDINGS:
        return None
    return tuple(sorted({term for term in found if isinstance(term, URIRef)}))


def resolve_names(store: Store, params: Iterable[Param], bindings: dict[str, Node]) -> dict[str, tuple[Node, ...]]:
    """The actors each "IRI or name" parameter denotes, for the variable its header names (``-> ?v``):
    the IRI given, or every actor with that name (:func:`actors_named`), none if nobody has it; for a
    "notation or IRI" parameter the concepts with that notation (:func:`concepts_noted`); for a "string"
    parameter the actors with a name containing it (:func:`actors_containing`), where that narrows the search.

    The query still tests the name itself; binding the resolved variable first lets the engine start
    from the actors' own triples instead of reading every label (a person's meetings at 10^6 triples:
    ~200 ms -> a few ms on Oxigraph).
    """
    values: dict[str, tuple[Node, ...]] = {}
    for param in params:
        term = bindings.get(param.name)
        if not param.resolves or term is None:
            continue
        if isinstance(term, URIRef):
            values[param.resolves] = (term,)
        elif param.kind.startswith("notation"):
            values[param.resolves] = concepts_noted(store, str(term))
        elif param.kind.startswith("string"):
            containing = actors_containing(store, str(term))
            if containing is not None:
                values[param.resolves] = containing
        else:
            values[param.resolves] = actors_named(store, str(term))
    return values


def run_named(store: Store, query: NamedQuery, bindings: dict[str, Node] | None = None, *,
              timeout_s: float | None = None, max_rows: int | None = None) -> QueryResult:
    """Check the parameters of a named query and run it on ``store`` (names resolved first:
    :func:`resolve_names`)."""
    bindings = dict(bindings or {})
    check_params(query, bindings)
    try:
        values = resolve_names(store, query.params, bindings)
        return store.query(query.text, bindings, timeout_s=timeout_s, max_rows=max_rows, values=values)
    except QueryError as error:  # named, and of its own class (a QueryTimeout stays one)
        error.args = (f"{query.name}: {error}",)
        raise


# --------------------------------------------------------------------------------------------
# Writing results
# --------------------------------------------------------------------------------------------

#: Output formats: name -> (media type, applies to "select" (and ask) or "graph" results).
FORMATS: dict[str, tuple[str, str]] = {
    "json": ("application/sparql-results+json", "select"),
    "xml": ("application/sparql-results+xml", "select"),
    "csv": ("text/csv; charset=utf-8", "select"),
    "tsv": ("text/tab-separated-values; charset=utf-8", "select"),
    "table": ("text/plain; charset=utf-8", "any"),
    "turtle": ("text/turtle; charset=utf-8", "graph"),
    "nt": ("application/n-triples", "graph"),
    "jsonld": ("application/ld+json", "graph"),
    "rdfxml": ("application/rdf+xml", "graph"),
}
#: On graph results the select-result format names mean these RDF formats.
GRAPH_EQUIVALENT = {"json": "jsonld", "xml": "rdfxml"}

_SPARQL_RESULTS_NS = "http://www.w3.org/2005/sparql-results#"


def write_result(result: QueryResult, fmt: str, out: TextIO) -> int:
    """Write ``result`` to ``out`` in ``fmt``; returns the number of rows (or triples) written."""
    if result.kind == "graph":
        fmt = GRAPH_EQUIVALENT.get(fmt, fmt)
    if fmt not in FORMATS:
        raise QueryError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    applies = FORMATS[fmt][1]
    if result.kind == "graph" and applies == "select" and fmt not in ("csv", "tsv"):
        raise QueryError(f"format {fmt} is for SELECT and ASK results, not for CONSTRUCT/DESCRIBE")
    if result.kind != "graph" and applies == "graph":
        raise QueryError(f"format {fmt} is for CONSTRUCT/DESCRIBE results; use json, xml, csv, tsv or table")
    writer = {
        "json": _write_json,
        "xml": _write_xml,
        "csv": _write_csv,
        "tsv": _write_tsv,
        "table": _write_table,
        "turtle": _write_rdf,
        "nt": _write_ntriples,
        "jsonld": _write_rdf,
        "rdfxml": _write_rdf,
    }[fmt]
    if writer is _write_rdf:
        return _write_rdf(result, out, fmt)
    return writer(result, out)


def result_text(result: QueryResult, fmt: str) -> str:
    """``write_result`` into a string."""
    buffer = io.StringIO()
    write_result(result, fmt, buffer)
    return buffer.getvalue()


def _json_term(term: Node) -> dict:
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    if isinstance(term, Literal):
        value = {"type": "literal", "value": str(term)}
        if term.language:
            value["xml:lang"] = term.language
        elif term.datatype is not None and str(term.datatype) != str(XSD.string):
            value["datatype"] = str(term.datatype)
        return value
    raise QueryError(f"cannot write the term {term!r}")


def _write_json(result: QueryResult, out: TextIO) -> int:
    if result.kind == "ask":
        out.write(json.dumps({"head": {}, "boolean": bool(result.boolean)}) + "\n")
        return 1
    head = json.dumps(result.variables, ensure_ascii=False)
    out.write('{"head": {"vars": ' + head + '},\n "results": {"bindings": [')
    count = 0
    for row in result:
        binding = {v: _json_term(t) for v, t in zip(result.variables, row, strict=True) if t is not None}
        out.write(("\n  " if count == 0 else ",\n  ") + json.dumps(binding, ensure_ascii=False))
        count += 1
    out.write("\n]}}\n")
    return count


def _xml_term(term: Node) -> str:
    if isinstance(term, URIRef):
        return f"<uri>{xml_escape(str(term))}</uri>"
    if isinstance(term, BNode):
        return f"<bnode>{xml_escape(str(term))}</bnode>"
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{xml_escape(str(term))}</literal>"
    if term.datatype is not None and str(term.datatype) != str(XSD.string):
        return f"<literal datatype={quoteattr(str(term.datatype))}>{xml_escape(str(term))}</literal>"
    return f"<literal>{xml_escape(str(term))}</literal>"


def _write_xml(result: QueryResult, out: TextIO) -> int:
    out.write(f'<?xml version="1.0"?>\n<sparql xmlns="{_SPARQL_RESULTS_NS}">\n  <head>\n')
    if result.kind == "ask":
        out.write(f"  </head>\n  <boolean>{'true' if result.boolean else 'false'}</boolean>\n</sparql>\n")
        return 1
    for variable in result.variables:
        out.write(f"    <variable name={quoteattr(variable)}/>\n")
    out.write("  </head>\n  <results>\n")
    count = 0
    for row in result:
        out.write("    <result>\n")
        for variable, term in zip(result.variables, row, strict=True):
            if term is not None:
                out.write(f"      <binding name={quoteattr(variable)}>{_xml_term(term)}</binding>\n")
        out.write("    </result>\n")
        count += 1
    out.write("  </results>\n</sparql>\n")
    return count


def _csv_value(term: Node | None) -> str:
    if term is None:
        return ""
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


def _write_csv(result: QueryResult, out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\r\n")
    if result.kind == "ask":
        writer.writerow(["boolean"])
        writer.writerow(["true" if result.boolean else "false"])
        return 1
    writer.writerow(result.variables)
    count = 0
    for row in result:
        writer.writerow([_csv_value(t) for t in row])
        count += 1
    return count


_NT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_NT_ESCAPE = re.compile(r'[\\"\n\r\t\b\f\x00-\x1f\x7f]')


def _escape_string(text: str) -> str:
    return _NT_ESCAPE.sub(lambda m: _NT_ESCAPES.get(m.group(), f"\\u{ord(m.group()):04X}"), text)


def nt_term(term: Node, *, abbreviate: bool = False) -> str:
    """A term in N-Triples syntax (``abbreviate`` writes integers and booleans bare, as Turtle allows)."""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal):
        lexical = str(term)
        if term.language:
            return f'"{_escape_string(lexical)}"@{term.language}'
        datatype = term.datatype
        if datatype is None or datatype == XSD.string:
            return f'"{_escape_string(lexical)}"'
        if abbreviate and datatype == XSD.integer and _INTEGER.match(lexical):
            return lexical
        if abbreviate and datatype == XSD.boolean and lexical in ("true", "false"):
            return lexical
        return f'"{_escape_string(lexical)}"^^<{datatype}>'
    raise QueryError(f"cannot write the term {term!r}")


def _write_tsv(result: QueryResult, out: TextIO) -> int:
    if result.kind == "ask":
        out.write("?boolean\n" + ("true" if result.boolean else "false") + "\n")
        return 1
    out.write("\t".join(f"?{v}" for v in result.variables) + "\n")
    count = 0
    for row in result:
        out.write("\t".join("" if t is None else nt_term(t, abbreviate=True) for t in row) + "\n")
        count += 1
    return count


def _write_ntriples(result: QueryResult, out: TextIO) -> int:
    count = 0
    for s, p, o in result:
        out.write(f"{nt_term(s)} {nt_term(p)} {nt_term(o)} .\n")
        count += 1
    return count


def _write_rdf(result: QueryResult, out: TextIO, fmt: str) -> int:
    graph = Graph()
    bind_prefixes(graph)
    for triple in result:
        graph.add(triple)
    rdflib_format = {"turtle": "turtle", "jsonld": "json-ld", "rdfxml": "pretty-xml"}[fmt]
    text = graph.serialize(format=rdflib_format)
    out.write(text if isinstance(text, str) else text.decode("utf-8"))
    return len(graph)


_COMPACT = sorted(((str(ns), prefix) for prefix, ns in PREFIXES.items()), key=lambda item: -len(item[0]))


def display_term(term: Node | None) -> str:
    """A short human form of a term for tables: prefixed IRIs, bare literal values."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        text = str(term)
        for namespace, prefix in _COMPACT:
            if text.startswith(namespace) and len(text) > len(namespace):
                return f"{prefix}:{text[len(namespace):]}"
        return f"<{text}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    return " ".join(str(term).split())


def _write_table(result: QueryResult, out: TextIO, max_width: int = 60) -> int:
    if result.kind == "ask":
        out.write(("yes" if result.boolean else "no") + "\n")
        return 1
    headers = list(result.variables)
    rows = [[_clip(display_term(t), max_width) for t in row] for row in result]
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    out.write("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
    noun = "triple" if result.kind == "graph" else "row"
    out.write(f"({len(rows)} {noun}{'' if len(rows) == 1 else 's'})\n")
    return len(rows)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def collect_bindings(params: Iterable[str] | None) -> dict[str, Node]:
    """Parse repeated ``--param`` options, refusing a name given twice."""
    bindings: dict[str, Node] = {}
    for text in params or ():
        name, term = parse_param(text)
        if name in bindings:
            raise QueryError(f"parameter ?{name} given twice")
        bindings[name] = term
    return bindings
