"""A read-only SPARQL 1.1 Protocol endpoint over the graph, with a browser page to query it.

``diplograph serve`` runs :func:`serve`. The HTTP side is the standard library's
:class:`http.server.ThreadingHTTPServer`; queries run in a small pool of worker *processes*, each with
the store open read-only, so that a query past its time limit can be stopped for good: its worker is
killed and replaced, the client gets ``504``, and the server keeps serving.

Endpoints:

- ``/sparql``: the SPARQL 1.1 Protocol query operation: ``GET ?query=``, ``POST`` of an HTML form
  (``application/x-www-form-urlencoded``) or of the query itself (``application/sparql-query``).
  Results by content negotiation (``Accept``), or ``format=json|xml|csv|tsv|turtle|nt|jsonld|rdfxml``:
  SELECT/ASK as SPARQL Results JSON (default), XML, CSV or TSV; CONSTRUCT/DESCRIBE as Turtle (default),
  N-Triples, JSON-LD or RDF/XML. Extension: ``$name=value`` parameters bind ``?name`` the way
  ``diplograph query --param`` does (as RDF terms, never spliced into the text).
- ``/``: the YASGUI page (bundled in ``kg/static/``, no network needed), set to this endpoint, with the
  named queries of ``queries/`` as examples; ``/queries.json``: those queries; ``/static/...``.

Refused: SPARQL Update (``update=``, ``application/sparql-update``, or an update sent as a query): 403;
``SERVICE``: 403; a malformed query: 400 with the parser's line and column; more result rows than the
limit: 422; a query past the time limit: 504; all workers busy past the time limit: 503; a query past
the memory limit of its worker: 500 (the worker is replaced). Error bodies
are one line of plain text, never a stack trace or a file path. It binds the loopback interface unless
told otherwise.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kg.errors import QueryError, UserError

log = logging.getLogger("diplograph.server")

STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_REQUEST_BYTES = 1 << 20  # a query (or form) larger than 1 MiB is refused
#: Memory (MiB of heap, RLIMIT_DATA) a query worker may use before it is stopped; 0: no limit.
#: ``$DIPLOGRAPH_WORKER_MEMORY_MB`` overrides it. An ORDER BY over a cross join grows by ~100 MiB/s.
WORKER_MEMORY_MB = 4096
SERVER_NAME = "diplograph-sparql"

#: Result formats by name: (media type sent, media types accepted for it, result kinds it serves).
RESULT_FORMATS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "json": ("application/sparql-results+json",
             ("application/sparql-results+json", "application/json"), "select"),
    "xml": ("application/sparql-results+xml",
            ("application/sparql-results+xml", "application/xml", "text/xml"), "select"),
    "csv": ("text/csv; charset=utf-8", ("text/csv",), "select"),
    "tsv": ("text/tab-separated-values; charset=utf-8", ("text/tab-separated-values",), "select"),
    "turtle": ("text/turtle; charset=utf-8", ("text/turtle", "application/x-turtle"), "graph"),
    "nt": ("application/n-triples", ("application/n-triples", "text/plain"), "graph"),
    "jsonld": ("application/ld+json", ("application/ld+json", "application/json"), "graph"),
    "rdfxml": ("application/rdf+xml", ("application/rdf+xml", "application/xml", "text/xml"), "graph"),
}
DEFAULT_FORMAT = {"select": "json", "graph": "turtle"}


# --------------------------------------------------------------------------------------------
# Content negotiation
# --------------------------------------------------------------------------------------------


def parse_accept(header: str | None) -> list[tuple[str, float, int]]:
    """``Accept`` as ``(media range, q, position)``, best first.

    >>> [m for m, q, i in parse_accept("text/csv;q=0.5, application/sparql-results+json, */*;q=0.1")]
    ['application/sparql-results+json', 'text/csv', '*/*']
    """
    ranges = []
    for position, part in enumerate((header or "").split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        q = 1.0
        for piece in pieces[1:]:
            if piece.lower().startswith("q="):
                try:
                    q = float(piece[2:])
                except ValueError:
                    q = 0.0
        if q > 0:
            ranges.append((media, q, position))
    ranges.sort(key=lambda item: (-item[1], item[2]))
    return ranges


def negotiate(kind: str, accept: str | None, format_param: str | None = None) -> str | None:
    """The result format to send for a ``kind`` ("select", "ask" or "graph") result, or None (406).

    >>> negotiate("select", "text/csv"), negotiate("graph", "*/*"), negotiate("select", None)
    ('csv', 'turtle', 'json')
    >>> negotiate("graph", "application/n-triples"), negotiate("select", "image/png")
    ('nt', None)
    """
    family = "graph" if kind == "graph" else "select"
    if format_param:
        name = format_param.lower()
        name = {"ntriples": "nt", "n-triples": "nt", "ttl": "turtle", "json-ld": "jsonld", "rdf": "rdfxml",
                "sparql-results+json": "json"}.get(name, name)
        if family == "graph":
            name = {"json": "jsonld", "xml": "rdfxml"}.get(name, name)
        if name in RESULT_FORMATS and RESULT_FORMATS[name][2] == family:
            return name
        return None
    ranges = parse_accept(accept)
    if not ranges:
        return DEFAULT_FORMAT[family]
    candidates = [name for name, spec in RESULT_FORMATS.items() if spec[2] == family]
    for media, _q, _position in ranges:
        if media in ("*/*", "*"):
            return DEFAULT_FORMAT[family]
        for name in candidates:
            accepted = RESULT_FORMATS[name][1]
            if media in accepted:
                return name
            if media.endswith("/*") and any(a.startswith(media[:-1]) for a in accepted):
                return name
    return None


# --------------------------------------------------------------------------------------------
# Worker processes
# --------------------------------------------------------------------------------------------


@dataclass
class Reply:
    """What a worker sends back for one request."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _text_reply(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    body = (message.rstrip() + "\n").encode("utf-8")
    return Reply(status, "text/plain; charset=utf-8", body, headers or {})


def _worker_main(conn, source: str, backend: str, max_rows: int) -> None:
    """Body of a worker process: open the store, then answer requests until the pipe closes."""
    try:
        from kg.store import open_store

        store = open_store(source, backend=backend)
        conn.send(("ready", len(store)))
    except BaseException as error:  # reported to the parent, which refuses to start
        conn.send(("failed", str(error) if isinstance(error, UserError) else type(error).__name__))
        return
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        try:
            reply = _answer(store, request, max_rows)
        except BaseException:  # never let a bug kill the worker without an answer
            sys.stderr.write(traceback.format_exc())
            reply = _text_reply(500, "internal error while running the query")
        try:
            conn.send(reply)
        except (OSError, BrokenPipeError):
            return


def _answer(store, request: dict[str, Any], max_rows: int) -> Reply:
    from kg.query import result_text
    from kg.store import ResultTooLarge

    try:
        bindings = request.get("bindings") or {}
        values = {}
        if request.get("resolves"):  # the text of a named query: its names resolved first, as run_named does
            from kg.query import resolve_names

            values = resolve_names(store, request["resolves"], bindings)
        result = store.query(request["query"], bindings, max_rows=max_rows, values=values)
        name = negotiate(result.kind, request.get("accept"), request.get("format"))
        if name is None:
            wanted = "RDF (text/turtle, application/n-triples, application/ld+json, application/rdf+xml)" \
                if result.kind == "graph" else "SPARQL results (JSON, XML, CSV or TSV)"
            return _text_reply(406, f"not acceptable: this query returns {wanted}")
        body = result_text(result, name).encode("utf-8")
    except ResultTooLarge as error:
        return _text_reply(422, public_message(str(error)))
    except QueryError as error:
        return _text_reply(400, public_message(str(error)))
    return Reply(200, RESULT_FORMATS[name][0], body)


_FILE_PATH = re.compile(r"""(?<![\w<"':/.])(?:~|\.{1,2})?/(?:[\w.@+-]+/)+[\w.@+-]*""")


def public_message(text: str) -> str:
    """One line of an error message with any filesystem path replaced, fit to show to a client.

    >>> public_message("query failed: IO error: /srv/exports/store/oxigraph/000012.sst: gone\\nmore")
    'query failed: IO error: <path>: gone'
    >>> public_message("no triple <http://x.org/a/b> here")
    'no triple <http://x.org/a/b> here'
    """
    first = text.strip().splitlines()[0] if text.strip() else "error"
    return _FILE_PATH.sub("<path>", first)[:500]


class _Worker:
    """One worker process (a fresh interpreter, so nothing of the server's main module is re-run)."""

    def __init__(self, source: str, backend: str, max_rows: int, start_timeout_s: float,
                 max_memory_mb: int = 0) -> None:
        parent, child = socket.socketpair()
        package_root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        code = "import sys; from kg.server import _worker_entry; _worker_entry(sys.argv[1:])"
        command = [sys.executable, "-c", code, str(child.fileno()), source, backend, str(max_rows),
                   str(max_memory_mb)]
        try:
            self.process = subprocess.Popen(command, pass_fds=(child.fileno(),), env=env,
                                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        finally:
            child.close()
        self.conn = Connection(parent.detach())
        if not self.conn.poll(start_timeout_s):
            self.kill()
            raise UserError(f"the query worker did not start within {start_timeout_s:g} s")
        try:
            status, detail = self.conn.recv()
        except (EOFError, OSError):
            self.kill()
            raise UserError("the query worker stopped while starting") from None
        if status != "ready":
            self.kill()
            raise UserError(f"cannot open the store: {detail}")
        self.triples = detail

    def kill(self) -> None:
        try:
            self.conn.close()
        except OSError:
            pass
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            pass


def _worker_entry(argv: list[str]) -> None:
    """Entry point of a worker process: ``FD SOURCE BACKEND MAX_ROWS [MAX_MEMORY_MB]``."""
    fd, source, backend, max_rows = int(argv[0]), argv[1], argv[2], int(argv[3])
    if len(argv) > 4 and int(argv[4]) > 0:
        _limit_memory(int(argv[4]))
    _worker_main(Connection(fd), source, backend, max_rows)


def _limit_memory(megabytes: int) -> None:
    """Cap this process's heap: a query that needs more ends the worker (which is replaced), not the machine."""
    try:
        import resource

        wanted = megabytes << 20
        _, hard = resource.getrlimit(resource.RLIMIT_DATA)
        limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    except (ImportError, AttributeError, ValueError, OSError):  # not on this platform: no cap
        pass


def _memory_limit(megabytes: int | None) -> int:
    if megabytes is not None:
        return max(0, megabytes)
    try:
        return max(0, int(os.environ.get("DIPLOGRAPH_WORKER_MEMORY_MB", WORKER_MEMORY_MB)))
    except ValueError:
        return WORKER_MEMORY_MB


class WorkerPool:
    """Worker processes holding the store; a query past its limit gets its worker killed and replaced."""

    def __init__(self, source: str, *, backend: str = "oxigraph", workers: int = 2, timeout_s: float = 10.0,
                 max_rows: int = 10_000, start_timeout_s: float = 120.0, max_memory_mb: int | None = None) -> None:
        self.source = source
        self.max_memory_mb = _memory_limit(max_memory_mb)
        self.backend = backend
        self.timeout_s = timeout_s
        self.max_rows = max_rows
        self.start_timeout_s = start_timeout_s
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        self.triples = 0
        for _ in range(max(1, workers)):
            worker = self._spawn()
            self.triples = worker.triples
            self._idle.put(worker)

    def _spawn(self) -> _Worker:
        worker = _Worker(self.source, self.backend, self.max_rows, self.start_timeout_s, self.max_memory_mb)
        with self._lock:
            self._all.add(worker)
        return worker

    def _replace(self, dead: _Worker) -> None:
        dead.kill()
        with self._lock:
            self._all.discard(dead)
        if self._closed:
            return

        def respawn() -> None:
            try:
                worker = self._spawn()
            except UserError as error:
                log.error("could not restart a query worker: %s", error)
                return
            if self._closed:
                worker.kill()
            else:
                self._idle.put(worker)

        threading.Thread(target=respawn, name="diplograph-respawn", daemon=True).start()

    def run(self, request: dict[str, Any], timeout_s: float | None = None) -> Reply:
        """Run one request on an idle worker within the time limit."""
        limit = self.timeout_s if timeout_s is None else min(timeout_s, self.timeout_s)
        started = time.monotonic()
        try:
            worker = self._idle.get(timeout=limit)
        except queue.Empty:
            return _text_reply(503, f"server busy: no query worker became free within {limit:g} s; try again",
                               {"Retry-After": "5"})
        remaining = max(0.05, limit - (time.monotonic() - started))
        try:
            worker.conn.send(request)
            if worker.conn.poll(remaining):
                reply = worker.conn.recv()
                self._idle.put(worker)
                return reply
        except (EOFError, OSError):
            self._replace(worker)
            memory = f" (most likely past the memory limit of {self.max_memory_mb} MiB)" if self.max_memory_mb else ""
            return _text_reply(500, f"query stopped: its worker ended{memory}; it has been restarted")
        self._replace(worker)
        return _text_reply(504, f"query stopped: it ran past the time limit of {limit:g} s "
                           "(narrow it, add a LIMIT, or raise --timeout)")

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.kill()


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------

_STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
_STATIC_NAME = re.compile(r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*$")
_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'")


class SparqlServer(ThreadingHTTPServer):
    """The HTTP server; ``pool`` runs the queries, ``catalogue`` lists the named queries."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, pool: WorkerPool, *, queries_dir: Path | None = None,
                 quiet: bool = False) -> None:
        super().__init__(address, SparqlHandler)
        self.pool = pool
        self.quiet = quiet
        self.queries_dir = queries_dir
        self._static_cache: dict[str, tuple[bytes, bytes]] = {}
        self._named_by_text: dict[str, tuple] | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def resolving_params(self, query: str) -> tuple:
        """The "IRI or name -> ?v" parameters of the named query whose text this is (the browser page
        sends the files' text), so that the endpoint resolves names first as ``diplograph query`` does;
        empty for any other query."""
        from kg.query import list_queries

        if self._named_by_text is None:
            self._named_by_text = {named.text.strip(): tuple(p for p in named.params if p.resolves)
                                   for named in list_queries(self.queries_dir)}
        return self._named_by_text.get(query.strip(), ())

    def catalogue_json(self) -> bytes:
        from kg.query import list_queries

        entries = []
        for named in list_queries(self.queries_dir):
            entry = named.as_dict()
            entry["example_params"] = _example_params(named.examples)
            entries.append(entry)
        body = {"queries": entries, "endpoint": "/sparql", "triples": self.pool.triples,
                "timeout_s": self.pool.timeout_s, "max_rows": self.pool.max_rows}
        return json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8")

    def static_file(self, name: str) -> tuple[bytes, bytes] | None:
        """``(raw, gzipped)`` bytes of a file of ``kg/static``, or None; never leaves that folder."""
        if name in self._static_cache:
            return self._static_cache[name]
        if not _STATIC_NAME.match(name) or ".." in name.split("/"):
            return None
        path = (STATIC_DIR / name).resolve()
        try:
            path.relative_to(STATIC_DIR)
        except ValueError:
            return None
        if not path.is_file() or path.suffix not in _STATIC_TYPES:
            return None
        raw = path.read_bytes()
        entry = (raw, gzip.compress(raw, 6, mtime=0))
        self._static_cache[name] = entry
        return entry

    def server_close(self) -> None:
        super().server_close()
        self.pool.close()


def _example_params(examples: tuple[str, ...]) -> dict[str, str]:
    import shlex

    params: dict[str, str] = {}
    for example in examples[:1]:
        try:
            words = shlex.split(example)
        except ValueError:
            continue
        for i, word in enumerate(words):
            if word in ("--param", "-p") and i + 1 < len(words) and "=" in words[i + 1]:
                name, _, value = words[i + 1].partition("=")
                params[name.lstrip("?$")] = value
    return params


class SparqlHandler(BaseHTTPRequestHandler):
    server: SparqlServer
    server_version = SERVER_NAME
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = 60  # seconds a client may take to send its request
    # Headers and body go out in two writes: with Nagle's algorithm on, a keep-alive client's delayed ACK
    # held every answer back by ~40 ms.
    disable_nagle_algorithm = True
    # http.server's own refusals (a malformed request line, an unknown method, too many headers) are one
    # plain-text line like every other error, not its HTML page.
    error_message_format = "%(message)s\n"
    error_content_type = "text/plain; charset=utf-8"

    # -- plumbing ------------------------------------------------------------------------

    def version_string(self) -> str:
        return SERVER_NAME

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        if not self.server.quiet:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    def _send(self, reply: Reply, *, head_only: bool = False) -> None:
        body = reply.body
        headers = dict(reply.headers)
        if len(body) > 1024 and "gzip" in (self.headers.get("Accept-Encoding") or "") \
                and "Content-Encoding" not in headers:
            body = gzip.compress(body, 5)
            headers["Content-Encoding"] = "gzip"
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(_text_reply(status, message, headers))

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _guarded(self, method) -> None:
        try:
            method()
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:  # a bug: log it here, tell the client nothing about it
            log.exception("error while handling %s %s", self.command, self.path)
            try:
                self._error(500, "internal error")
            except OSError:
                self.close_connection = True

    # -- methods -------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._guarded(lambda: self._get(head_only=False))

    def do_HEAD(self) -> None:
        self._guarded(lambda: self._get(head_only=True))

    def do_POST(self) -> None:
        self._guarded(self._post)

    def do_PUT(self) -> None:
        self._error(405, "method not allowed: this endpoint is read-only", {"Allow": "GET, HEAD, POST"})

    do_DELETE = do_PATCH = do_PUT

    def _get(self, head_only: bool) -> None:
        url = urlsplit(self.path)
        path = url.path
        if path == "/sparql":
            if head_only:
                self._send(_text_reply(200, ""), head_only=True)
                return
            fields = parse_qs(url.query, keep_blank_values=True)
            self._sparql(fields, query=None)
            return
        if path in ("/", "/index.html"):
            self._static("index.html", head_only, page=True)
            return
        if path == "/queries.json":
            self._send(Reply(200, "application/json; charset=utf-8", self.server.catalogue_json()),
                       head_only=head_only)
            return
        if path.startswith("/static/"):
            self._static(path[len("/static/"):], head_only)
            return
        if path == "/favicon.ico":
            self._send(Reply(204, "image/x-icon", b""), head_only=True)
            return
        self._error(404, "not found: the SPARQL endpoint is /sparql, the query page is /")

    def _static(self, name: str, head_only: bool, page: bool = False) -> None:
        entry = self.server.static_file(name)
        if entry is None:
            self._error(404, "not found")
            return
        raw, zipped = entry
        headers = {"Cache-Control": "no-cache"}
        body = raw
        if "gzip" in (self.headers.get("Accept-Encoding") or "") and len(raw) > 1024:
            body = zipped
            headers["Content-Encoding"] = "gzip"
        if page:
            headers["Content-Security-Policy"] = _CSP
            headers["X-Frame-Options"] = "DENY"
        content_type = _STATIC_TYPES[Path(name).suffix]
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def _post(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/sparql":
            self._error(404, "not found: POST queries to /sparql")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self._error(400, "bad Content-Length")
            return
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True
            self._error(413, f"request too large: at most {MAX_REQUEST_BYTES} bytes")
            return
        body = self.rfile.read(length) if length > 0 else b""
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        fields = parse_qs(url.query, keep_blank_values=True)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            self._error(400, "the request body is not UTF-8")
            return
        if content_type == "application/sparql-update":
            self._error(403, "updates are refused: this endpoint is read-only")
            return
        if content_type == "application/sparql-query":
            self._sparql(fields, query=text)
            return
        if content_type in ("application/x-www-form-urlencoded", ""):
            for key, values in parse_qs(text, keep_blank_values=True).items():
                fields.setdefault(key, []).extend(values)
            self._sparql(fields, query=None)
            return
        self._error(415, "unsupported media type: POST application/x-www-form-urlencoded or "
                    "application/sparql-query")

    # -- the protocol --------------------------------------------------------------------

    def _sparql(self, fields: dict[str, list[str]], query: str | None) -> None:
        from kg.query import parse_param_value
        from kg.store import analyse_query

        if "update" in fields:
            self._error(403, "updates are refused: this endpoint is read-only")
            return
        if query is None:
            queries = fields.get("query") or []
            if len(queries) != 1 or not queries[0].strip():
                self._error(400, "give exactly one query: GET /sparql?query=... or POST query=...")
                return
            query = queries[0]
        if len(query.encode("utf-8")) > MAX_REQUEST_BYTES:
            self._error(413, f"query too large: at most {MAX_REQUEST_BYTES} bytes")
            return
        if fields.get("default-graph-uri") or fields.get("named-graph-uri"):
            self._error(400, "default-graph-uri and named-graph-uri are not supported: there is one graph")
            return
        shape = analyse_query(query)
        if shape.is_update:
            self._error(403, "updates are refused: this endpoint is read-only")
            return
        if shape.uses_service:
            self._error(403, "SERVICE (federated query) is refused: queries run on the local graph only")
            return
        bindings = {}
        try:
            for key, values in fields.items():
                if key.startswith("$") and len(key) > 1:
                    if len(values) != 1:
                        raise QueryError(f"parameter {key} given {len(values)} times")
                    if values[0] != "":
                        bindings[key[1:]] = parse_param_value(values[0])
        except QueryError as error:
            self._error(400, str(error))
            return
        timeout_s = None
        if fields.get("timeout"):
            try:
                timeout_s = max(0.1, float(fields["timeout"][0]))
            except ValueError:
                self._error(400, "timeout must be a number of seconds")
                return
        request = {
            "query": query,
            "bindings": bindings,
            "resolves": self.server.resolving_params(query),
            "accept": self.headers.get("Accept"),
            "format": (fields.get("format") or [None])[0],
        }
        self._send(self.server.pool.run(request, timeout_s))


# --------------------------------------------------------------------------------------------
# Starting
# --------------------------------------------------------------------------------------------


def make_server(source: str | os.PathLike, *, host: str = "127.0.0.1", port: int = 7878,
                timeout_s: float = 10.0, max_rows: int = 10_000, workers: int = 2, backend: str = "oxigraph",
                queries_dir: Path | None = None, quiet: bool = False, max_memory_mb: int | None = None
                ) -> SparqlServer:
    """A ready server (workers started, socket bound) over a store directory or an RDF file.

    Call ``serve_forever()`` on it, and ``shutdown()`` then ``server_close()`` to stop it. ``port=0``
    picks a free port (see ``server.url``). ``max_memory_mb`` caps each worker's heap (default
    :data:`WORKER_MEMORY_MB` or ``$DIPLOGRAPH_WORKER_MEMORY_MB``; 0: no cap).
    """
    source = str(source)
    if not Path(source).exists():
        raise UserError(f"{source}: no such store directory or RDF file (run `diplograph build` first)")
    pool = WorkerPool(source, backend=backend, workers=workers, timeout_s=timeout_s, max_rows=max_rows,
                      max_memory_mb=max_memory_mb)
    try:
        return SparqlServer((host, port), pool, queries_dir=queries_dir, quiet=quiet)
    except OSError as error:
        pool.close()
        raise UserError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


def serve(server: SparqlServer) -> None:
    """Serve until interrupted."""
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _self_check(server: SparqlServer) -> str:
    """One small query through the whole stack; returns the number of triples as text."""
    reply = server.pool.run({"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "format": "csv"})
    if reply.status != 200:
        raise UserError(f"the store does not answer: {reply.body.decode('utf-8', 'replace').strip()}")
    return io.StringIO(reply.body.decode("utf-8")).read().splitlines()[-1]
