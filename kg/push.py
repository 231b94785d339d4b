"""Upload the graph to any SPARQL 1.1 Graph Store Protocol server (Oxigraph, Fuseki, Virtuoso, GraphDB, ...).

    from kg.push import push
    push("exports/graph.ttl", "http://127.0.0.1:7878/store", graph="https://example.org/graph/diplograph")

What goes where:

- a triples file (``graph.ttl``, ``.nt``) goes into the graph ``graph`` (an IRI; ``?graph=IRI``) or, without
  one, into the server's default graph (``?default``);
- a quads file (``.nq``, ``.trig``: ``diplograph export --format nquads``) goes graph by graph: each named
  graph of the file into the server graph of that name, its default graph into ``graph`` or the default
  graph;
- ``per_article=True`` splits a triples file into the named graphs of ``diplograph export`` first (one per
  article, plus shared and ontology graphs; :func:`kg.export.dataset`) and uploads each.

The first request to a graph is a ``PUT`` (it replaces what the server held in that graph) unless
``append`` is set; the rest are ``POST`` (they add). Graphs are sent in chunks of at most ``chunk_triples``
triples, each a self-contained ``text/turtle`` document (N-Triples lines, which are Turtle), so a graph of any
size goes through servers and proxies that limit request sizes. A blank node is only meaningful inside one
request, so the triples connected through blank nodes always travel in the same chunk.

A push of several chunks is not atomic: if one fails, the error names the graph and chunk, the graph holds
the chunks sent before it, and pushing again (``PUT`` first) replaces it as a whole.

Authentication is HTTP Basic (``user``/``password``). Files are parsed with pyoxigraph, so memory stays
proportional to one chunk plus the blank-node triples.
"""

from __future__ import annotations

import base64
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.errors import UserError

DEFAULT_CHUNK_TRIPLES = 100_000
CONTENT_TYPE = "text/turtle; charset=utf-8"
_QUAD_FORMATS = {".nq": ox.RdfFormat.N_QUADS, ".nquads": ox.RdfFormat.N_QUADS, ".trig": ox.RdfFormat.TRIG}
_TRIPLE_FORMATS = {".ttl": ox.RdfFormat.TURTLE, ".turtle": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES,
                   ".ntriples": ox.RdfFormat.N_TRIPLES, ".rdf": ox.RdfFormat.RDF_XML, ".owl": ox.RdfFormat.RDF_XML}


class PushError(UserError):
    """The server refused a request or cannot be reached."""


@dataclass
class PushReport:
    endpoint: str
    graphs: dict[str, int] = field(default_factory=dict)  # target ("default" or the IRI) -> triples sent
    requests: int = 0
    bytes_sent: int = 0
    seconds: float = 0.0

    @property
    def triples(self) -> int:
        return sum(self.graphs.values())

    def summary(self) -> str:
        return (f"pushed {self.triples:,} triples in {len(self.graphs)} graph(s) to {self.endpoint}: "
                f"{self.requests} request(s), {self.bytes_sent / 1e6:,.1f} MB in {self.seconds:.1f} s")


def graph_url(endpoint: str, graph: str | None) -> str:
    """The Graph Store Protocol URL of ``graph`` (an IRI) or of the default graph (None).

    >>> graph_url("http://h/store", None)
    'http://h/store?default'
    >>> graph_url("http://h/store?x=1", "https://e.org/g#1")
    'http://h/store?x=1&graph=https%3A%2F%2Fe.org%2Fg%231'
    """
    joiner = "&" if urllib.parse.urlsplit(endpoint).query else "?"
    if graph is None:
        return f"{endpoint}{joiner}default"
    return f"{endpoint}{joiner}graph={urllib.parse.quote(graph, safe='')}"


# --- reading and chunking ---------------------------------------------------------------------------------


def _is_blank(term) -> bool:
    return isinstance(term, ox.BlankNode)


def _quads(path: Path, per_article: bool) -> Iterator[tuple[str | None, ox.Triple]]:
    """(graph name or None for the default graph, triple) for every statement of the file."""
    suffix = path.suffix.lower()
    if per_article:
        if suffix not in _TRIPLE_FORMATS:
            raise UserError(f"{path}: --per-article splits a triples file (.ttl, .nt); this one has graphs already")
        yield from _article_quads(path)
        return
    rdf_format = _QUAD_FORMATS.get(suffix) or _TRIPLE_FORMATS.get(suffix)
    if rdf_format is None:
        raise UserError(f"{path}: unknown RDF format (use .ttl, .nt, .nq or .trig)")
    try:
        for quad in ox.parse(path=str(path), format=rdf_format):
            name = None if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value
            yield name, ox.Triple(quad.subject, quad.predicate, quad.object)
    except SyntaxError as error:
        raise UserError(f"{path}: not valid {rdf_format.name}: {error}") from None


def _article_quads(path: Path) -> Iterator[tuple[str | None, ox.Triple]]:
    from rdflib import Graph

    from kg.export import dataset
    from kg.store import rdflib_to_ox

    graph = Graph()
    graph.parse(path)
    for name, part in sorted(dataset(graph).items(), key=lambda item: str(item[0] or "")):
        for s, p, o in part:
            yield (None if name is None else str(name)), ox.Triple(rdflib_to_ox(s), rdflib_to_ox(p), rdflib_to_ox(o))


def _components(triples: list[ox.Triple]) -> list[list[ox.Triple]]:
    """Triples that share blank nodes (directly or through others), grouped; in input order."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for triple in triples:
        blanks = [t.value for t in (triple.subject, triple.object) if _is_blank(t)]
        for other in blanks[1:]:
            parent[find(other)] = find(blanks[0])
    groups: dict[str, list[ox.Triple]] = defaultdict(list)
    for triple in triples:
        blank = triple.subject if _is_blank(triple.subject) else triple.object
        groups[find(blank.value)].append(triple)
    return list(groups.values())


def chunks(statements: Iterable[tuple[str | None, ox.Triple]],
           chunk_triples: int = DEFAULT_CHUNK_TRIPLES) -> Iterator[tuple[str | None, list[ox.Triple]]]:
    """Group statements into (graph, triples) chunks of at most ``chunk_triples`` triples.

    A group of triples linked by blank nodes is never split (it may exceed the limit on its own); blank-node
    triples go after the other triples of their graph. A graph's last chunk is sent when the input moves on
    to another graph, so sorted N-Quads (``diplograph export``) keep one chunk in memory at a time.
    """
    if chunk_triples < 1:
        raise UserError("the chunk size must be at least one triple")
    current: str | None = None
    chunk: list[ox.Triple] = []
    blank: list[ox.Triple] = []
    started = False
    for name, triple in statements:
        if not started or name != current:
            if started:
                yield from _last_chunks(current, chunk, blank, chunk_triples)
            current, chunk, blank, started = name, [], [], True
        if _is_blank(triple.subject) or _is_blank(triple.object):
            blank.append(triple)
            continue
        chunk.append(triple)
        if len(chunk) >= chunk_triples:
            yield current, chunk
            chunk = []
    if started:
        yield from _last_chunks(current, chunk, blank, chunk_triples)


def _last_chunks(name: str | None, chunk: list[ox.Triple], blank: list[ox.Triple],
                 chunk_triples: int) -> Iterator[tuple[str | None, list[ox.Triple]]]:
    for group in _components(blank):
        if chunk and len(chunk) + len(group) > chunk_triples:
            yield name, chunk
            chunk = []
        chunk.extend(group)
    if chunk:
        yield name, chunk


def _body(triples: list[ox.Triple]) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)


# --- sending ----------------------------------------------------------------------------------------------


def _request(url: str, method: str, body: bytes, auth: str | None, timeout: float) -> int:
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Content-Type", CONTENT_TYPE)
    request.add_header("Content-Length", str(len(body)))
    if auth:
        request.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        detail = error.read(500).decode("utf-8", "replace").strip()
        hint = " (check --user/--password)" if error.code in (401, 403) else ""
        raise PushError(f"{method} {url}: HTTP {error.code} {error.reason}{hint}"
                        + (f": {detail}" if detail else "")) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise PushError(f"{method} {url}: cannot reach the server ({reason})") from None


def push(
    path: str | Path,
    endpoint: str,
    graph: str | None = None,
    *,
    per_article: bool = False,
    append: bool = False,
    user: str | None = None,
    password: str | None = None,
    chunk_triples: int = DEFAULT_CHUNK_TRIPLES,
    timeout: float = 300.0,
    progress: Callable[[str], None] | None = None,
) -> PushReport:
    """Upload the RDF file ``path`` to the Graph Store Protocol ``endpoint`` (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file (build the graph first: diplograph build SRC --out DIR)")
    scheme = urllib.parse.urlsplit(endpoint).scheme
    if scheme not in ("http", "https"):
        raise UserError(f"{endpoint}: the endpoint must be an http:// or https:// URL (the Graph Store, e.g. "
                        "http://127.0.0.1:7878/store)")
    if graph is not None and not urllib.parse.urlsplit(graph).scheme:
        raise UserError(f"{graph}: the target graph must be an absolute IRI")
    auth = None
    if user is not None:
        token = base64.b64encode(f"{user}:{password or ''}".encode()).decode("ascii")
        auth = f"Basic {token}"
    report = PushReport(endpoint)
    started = time.perf_counter()
    sent: dict[str | None, int] = {}
    for name, triples in chunks(_quads(path, per_article), chunk_triples):
        target = name if name is not None else graph
        method = "POST" if append or target in sent else "PUT"
        body = _body(triples)
        _request(graph_url(endpoint, target), method, body, auth, timeout)
        sent[target] = sent.get(target, 0) + 1
        report.graphs[target or "default"] = report.graphs.get(target or "default", 0) + len(triples)
        report.requests += 1
        report.bytes_sent += len(body)
        if progress:
            progress(f"{method} {target or 'default graph'}: {len(triples):,} triples "
                     f"({report.triples:,} so far)")
    if not report.requests and not append:  # an empty file empties the target graph
        _request(graph_url(endpoint, graph), "PUT", b"", auth, timeout)
        report.graphs[graph or "default"] = 0
        report.requests = 1
    report.seconds = time.perf_counter() - started
    return report
