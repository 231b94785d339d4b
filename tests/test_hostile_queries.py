"""Hostile queries: parameters never change a query's text, updates are refused every way, every query is
bounded in time, rows and memory, the endpoint listens on loopback, named-query lookup stays inside
``queries/``, and no error tells a client about stack traces or the file system.

Runs on the seed graph (``conftest.seed_build``): through the library, the ``diplograph query`` command
(a subprocess, as a user runs it) and the HTTP endpoint (raw sockets where a client library would refuse).
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from rdflib import Literal

from kg.errors import QueryError
from kg.query import (
    NamedQuery,
    collect_bindings,
    list_queries,
    parse_param,
    parse_param_value,
    resolve_query_arg,
    resolve_query_name,
    run_named,
)
from kg.server import make_server
from kg.store import QueryTimeout, ResultTooLarge, open_store

from .conftest import ROOT

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
CROSS_JOIN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # billions of rows on the seeds
ECHO = "SELECT ?v WHERE { }"  # returns its parameter: what was bound is exactly what comes back
TIMEOUT_S = 2.0
MAX_ROWS = 200

#: Parameter values written to break out of a query, had they been pasted into its text.
INJECTIONS = [
    '"> } ; DROP ALL ; #',
    'x" } UNION { ?s ?p ?o } #',
    "x' } ; CLEAR DEFAULT ; #",
    '""" } INSERT DATA { <urn:a> <urn:b> <urn:c> } #',
    "<urn:x> } ; DROP ALL ; #",
    "<urn:x> . } DROP ALL { <urn:y>",
    "} } } ) ) ) ;;; DELETE WHERE { ?s ?p ?o }",
    '\\" ; LOAD <file:///etc/passwd> ; #',
    "?actor",
    "$actor",
    "line\n} DROP ALL #\n",
    "nul\x00byte",
    "\u202e} LLA PORD",
    "SELECT * WHERE { ?s ?p ?o }",
]

UPDATES = [
    "DROP ALL",
    "clear default",
    "Clear Graph <urn:g>",
    "LOAD <file:///etc/passwd>",
    "LOAD <http://127.0.0.1:9/x.ttl> INTO GRAPH <urn:g>",
    "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
    "insert data { <urn:a> <urn:b> <urn:c> }",
    "DELETE WHERE { ?s ?p ?o }",
    "DELETE DATA { <urn:a> <urn:b> <urn:c> }",
    "WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "CREATE GRAPH <urn:g>",
    "ADD DEFAULT TO <urn:g>",
    "MOVE DEFAULT TO <urn:g>",
    "COPY DEFAULT TO <urn:g>",
    "PREFIX x: <urn:x#>\n# a comment SELECT\nBASE <urn:b>\nINSERT DATA { x:a x:b 'SELECT' }",
    "  \n\t# SELECT * {}\n  DELETE WHERE { ?s ?p ?o }",
]
LEAKS = ("/work", str(ROOT), "Traceback", 'File "', ".py", "site-packages", "/tmp/", "/home/", "/usr/")


def assert_no_leak(body: str | bytes, *paths: Path) -> None:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    for marker in (*LEAKS, *(str(p) for p in paths)):
        assert marker not in text, (marker, text[:500])


# ------------------------------------------------------------------------------------------
# Fixtures: the seed store, a server over it, the command
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_store(seed_build):
    out, _ = seed_build
    store = open_store(out / "store")
    yield store
    store.close()


@pytest.fixture(scope="module")
def triples(seed_store):
    return int(next(iter(seed_store.query(COUNT)))[0])


@pytest.fixture(scope="module")
def server(seed_build):
    out, _ = seed_build
    srv = make_server(out / "store", port=0, timeout_s=TIMEOUT_S, max_rows=MAX_ROWS, workers=2, quiet=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    srv.store_path = out / "store"
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(10)


def http(url: str, data: bytes | None = None, headers: dict | None = None, method: str | None = None):
    """(status, headers, body text) without raising on HTTP errors."""
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, head, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, head, body = error.code, error.headers, error.read()
    if head.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return status, head, body.decode("utf-8")


def get(server, fields: dict, accept: str | None = None):
    return http(f"{server.url}sparql?{urllib.parse.urlencode(fields)}", headers={"Accept": accept} if accept else {})


def post_form(server, fields: dict):
    return http(server.url + "sparql", urllib.parse.urlencode(fields).encode(),
                {"Content-Type": "application/x-www-form-urlencoded"})


def raw(server, request: bytes, timeout: float = 10) -> bytes:
    """Send bytes as they are and read the whole answer (the server closes after an error)."""
    host, port = server.server_address[:2]
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "kg", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd or ROOT, env=environment)


def echo_query(tmp_path: Path) -> Path:
    path = tmp_path / "echo.rq"
    path.write_text("# echo — returns its parameter.\n# Parameters:\n#   ?v  (required) anything\n" + ECHO + "\n")
    return path


# ------------------------------------------------------------------------------------------
# Parameters are terms, never text
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", INJECTIONS)
def test_a_parameter_value_becomes_one_term_or_is_refused(value):
    try:
        term = parse_param_value(value)
    except QueryError as error:  # "<...>" that is not an IRI
        assert _is_bracketed(value) and "not a valid absolute IRI" in str(error)
        return
    assert isinstance(term, Literal) and term.datatype is None and str(term) == value


@pytest.mark.parametrize("value", INJECTIONS)
def test_an_injected_value_comes_back_as_the_literal_it_is(seed_store, triples, value):
    term = Literal(value)
    for backend_store in (seed_store, open_store(_graph_of(seed_store), backend="rdflib")):
        rows = list(backend_store.query(ECHO, {"v": term}))
        assert rows == [(term,)]
    assert int(next(iter(seed_store.query(COUNT)))[0]) == triples


def _is_bracketed(value: str) -> bool:
    return value.startswith("<") and value.endswith(">")


def _graph_of(store):
    from rdflib import Graph

    graph = Graph()
    for s, p, o in store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"):
        graph.add((s, p, o))
    return graph


@pytest.mark.parametrize("value", INJECTIONS[:8])
def test_a_named_query_with_an_injected_actor_finds_nothing_and_keeps_its_text(seed_store, triples, value):
    named = resolve_query_name("meetings-of-actor")
    text_before = named.text
    assert list(run_named(seed_store, named, {"actor": Literal(value)}, timeout_s=30)) == []
    assert named.text == text_before == resolve_query_name("meetings-of-actor").text
    assert int(next(iter(seed_store.query(COUNT)))[0]) == triples
    # the same query still answers for a real actor afterwards
    assert list(run_named(seed_store, named, {"actor": Literal("Murat Nurtleu")}, timeout_s=30))


@pytest.mark.parametrize("text", ["actor} ; DROP ALL=1", "a b=1", "act\nor=1", "=x", "actor", "?=1", "a.b=1"])
def test_a_parameter_name_must_be_a_variable_name(text):
    with pytest.raises(QueryError, match="bad parameter"):
        parse_param(text)


def test_a_parameter_given_twice_or_unknown_is_refused(seed_store):
    with pytest.raises(QueryError, match="given twice"):
        collect_bindings(["actor=a", "actor=b"])
    with pytest.raises(QueryError, match="no variable"):
        run_named(seed_store, resolve_query_name("meetings-of-actor"), {"actor": Literal("x"), "zz": Literal("y")})
    with pytest.raises(QueryError, match="cannot bind"):
        seed_store.query("SELECT ?s WHERE { ?s ?p ?o }", {"s} ; DROP ALL ; {?x": Literal("y")})


def test_the_command_binds_injections_as_literals(seed_build, tmp_path):
    out, _ = seed_build
    query = echo_query(tmp_path)
    for value in INJECTIONS[:8]:
        run = cli("query", str(query), "--param", f"v={value}", "--format", "json", "--store", str(out / "store"))
        if _is_bracketed(value):
            assert run.returncode == 2 and "not a valid absolute IRI" in run.stderr
            continue
        assert run.returncode == 0, run.stderr
        bindings = json.loads(run.stdout)["results"]["bindings"]
        assert bindings == [{"v": {"type": "literal", "value": value}}]
    run = cli("query", "meetings-of-actor", "--param", f"actor={INJECTIONS[0]}", "--format", "csv",
              "--store", str(out / "store"))
    assert run.returncode == 0 and len(run.stdout.splitlines()) == 1, run.stderr  # the header only


@pytest.mark.parametrize("value", INJECTIONS)
def test_the_endpoint_binds_dollar_fields_as_literals(server, value):
    if "\x00" in value:
        value = value.replace("\x00", "")
    status, _, body = get(server, {"query": ECHO, "$v": value})
    if _is_bracketed(value):
        assert status == 400 and "not a valid absolute IRI" in body
        assert_no_leak(body, server.store_path)
        return
    assert status == 200, body
    assert json.loads(body)["results"]["bindings"] == [{"v": {"type": "literal", "value": value}}]
    status, _, body = post_form(server, {"query": ECHO, "$v": value})
    assert status == 200 and json.loads(body)["results"]["bindings"][0]["v"]["value"] == value


def test_a_dollar_field_naming_no_variable_is_refused(server):
    for name in ("$v} ; DROP ALL ; {", "$nothing", "$?v", "$v v"):
        status, _, body = get(server, {"query": ECHO, name: "x"})
        assert status == 400 and "cannot bind" in body, (name, body)
        assert_no_leak(body, server.store_path)


# ------------------------------------------------------------------------------------------
# Read-only, every way
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("update", UPDATES)
def test_updates_are_refused_by_the_store(seed_store, triples, update):
    with pytest.raises(QueryError, match="updates are refused"):
        seed_store.query(update)
    assert int(next(iter(seed_store.query(COUNT)))[0]) == triples


def test_the_persistent_store_is_read_only_below_the_check(seed_store):
    with pytest.raises(Exception, match="read-only|read-write"):
        seed_store.native.update("CLEAR ALL")
    with pytest.raises(Exception, match="read-only"):
        seed_store.load(data="<urn:a> <urn:b> <urn:c> .", format="nt")


def test_a_query_followed_by_an_update_is_a_syntax_error(seed_store, triples):
    for text in ("SELECT * WHERE { } ; DROP ALL", "ASK { } DROP ALL", "SELECT * { } }; CLEAR DEFAULT"):
        with pytest.raises(QueryError, match="malformed query"):
            list(seed_store.query(text))
    assert int(next(iter(seed_store.query(COUNT)))[0]) == triples


@pytest.mark.parametrize("update", UPDATES)
def test_updates_are_refused_by_the_endpoint_every_way(server, triples, update):
    encoded = update.encode("utf-8")
    answers = [
        get(server, {"query": update}),
        get(server, {"update": update}),
        get(server, {"query": COUNT, "update": update}),
        post_form(server, {"query": update}),
        post_form(server, {"update": update}),
        http(server.url + "sparql", encoded, {"Content-Type": "application/sparql-update"}),
        http(server.url + "sparql", encoded, {"Content-Type": "application/sparql-query"}),
        http(server.url + "sparql?update=" + urllib.parse.quote(update), b"", {"Content-Type": ""}),
    ]
    for status, headers, body in answers:
        assert status == 403 and "read-only" in body, (status, body)
        assert headers["Content-Type"].startswith("text/plain")
        assert_no_leak(body, server.store_path)
    for method in ("PUT", "DELETE", "PATCH"):
        status, _, body = http(server.url + "sparql", encoded, method=method)
        assert status == 405 and "read-only" in body
    status, _, body = get(server, {"query": COUNT}, "text/csv")
    assert status == 200 and int(body.splitlines()[1]) == triples


# ------------------------------------------------------------------------------------------
# Limits: time, rows, memory
# ------------------------------------------------------------------------------------------


def test_the_store_stops_a_query_at_its_time_limit(seed_store):
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        seed_store.query(CROSS_JOIN, timeout_s=1.0)
    assert time.monotonic() - started < 5
    assert int(next(iter(seed_store.query(COUNT, timeout_s=10)))[0]) > 0


def test_the_store_stops_at_the_row_limit(seed_store):
    with pytest.raises(ResultTooLarge):
        list(seed_store.query("SELECT * WHERE { ?s ?p ?o }", max_rows=10))
    with pytest.raises(ResultTooLarge):
        list(seed_store.query("SELECT * WHERE { ?s ?p ?o }", max_rows=10, timeout_s=10))


def test_the_command_has_time_and_row_limits(seed_build, tmp_path):
    out, _ = seed_build
    slow = tmp_path / "slow.rq"
    slow.write_text(CROSS_JOIN + "\n")
    started = time.monotonic()
    run = cli("query", str(slow), "--timeout", "1", "--store", str(out / "store"))
    assert run.returncode == 2 and "time limit of 1 s" in run.stderr and "Traceback" not in run.stderr
    assert time.monotonic() - started < 60
    every = tmp_path / "every.rq"
    every.write_text("SELECT * WHERE { ?s ?p ?o }\n")
    run = cli("query", str(every), "--max-rows", "5", "--format", "csv", "--store", str(out / "store"))
    assert run.returncode == 2 and "more than 5 rows" in run.stderr and "Traceback" not in run.stderr


def test_the_endpoint_has_time_and_row_limits_a_client_cannot_raise(server):
    for fields in ({"query": CROSS_JOIN}, {"query": CROSS_JOIN, "timeout": "100000"},
                   {"query": CROSS_JOIN, "timeout": "inf"}):
        started = time.monotonic()
        status, _, body = get(server, fields)
        assert status == 504 and f"time limit of {TIMEOUT_S:g} s" in body, body
        assert time.monotonic() - started < TIMEOUT_S + 5
        assert_no_leak(body, server.store_path)
    for timeout in ("nan", "-1", "0", "1e-300"):
        status, _, body = get(server, {"query": "ASK { }", "timeout": timeout})
        assert status == 200, (timeout, body)
    status, _, body = get(server, {"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert status == 422 and f"more than {MAX_ROWS} rows" in body
    status, _, body = get(server, {"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"})
    assert status == 422 and f"more than {MAX_ROWS} rows" in body
    status, _, body = get(server, {"query": COUNT}, "text/csv")  # and it still answers
    assert status == 200


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_DATA caps the heap on Linux")
def test_a_query_past_the_memory_limit_ends_its_worker_not_the_machine(seed_build):
    """An ORDER BY over a cross join grows by ~100 MiB/s: well before its time limit it hits the cap."""
    out, _ = seed_build
    srv = make_server(out / "store", port=0, timeout_s=60, max_rows=MAX_ROWS, workers=1, quiet=True,
                      max_memory_mb=400)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        status, _, body = get(srv, {"query": "SELECT ?a WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?f LIMIT 1"})
        assert status == 500 and "memory limit of 400 MiB" in body, body
        assert time.monotonic() - started < 30
        assert_no_leak(body, out)
        deadline = time.monotonic() + 60
        while not srv.pool._all and time.monotonic() < deadline:
            time.sleep(0.2)
        status, _, body = get(srv, {"query": COUNT}, "text/csv")
        assert status == 200 and int(body.splitlines()[1]) > 1000
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(10)


def test_the_memory_limit_has_a_default_and_an_override(monkeypatch):
    from kg.server import WORKER_MEMORY_MB, _memory_limit

    monkeypatch.delenv("DIPLOGRAPH_WORKER_MEMORY_MB", raising=False)
    assert _memory_limit(None) == WORKER_MEMORY_MB > 0 and _memory_limit(0) == 0 and _memory_limit(300) == 300
    monkeypatch.setenv("DIPLOGRAPH_WORKER_MEMORY_MB", "1234")
    assert _memory_limit(None) == 1234
    monkeypatch.setenv("DIPLOGRAPH_WORKER_MEMORY_MB", "lots")
    assert _memory_limit(None) == WORKER_MEMORY_MB


def test_keep_alive_answers_are_not_held_back_by_nagle(server):
    """Headers and body are two writes; with Nagle's algorithm a keep-alive client waited ~40 ms each time."""
    import http.client
    import statistics

    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
    path = "/sparql?" + urllib.parse.urlencode({"query": "ASK { }"})
    times = []
    try:
        for _ in range(21):
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            assert response.status == 200 and response.read()
            times.append(time.perf_counter() - started)
    finally:
        connection.close()
    assert statistics.median(times) < 0.025, times


def test_a_request_too_large_is_refused_before_it_is_read(server):
    answer = raw(server, b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                         b"Content-Length: 99999999999\r\n\r\nASK {}")
    assert answer.startswith(b"HTTP/1.1 413") and b"request too large" in answer
    status, _, body = get(server, {"query": "ASK { }" + "#" * 70000})
    assert status == 414
    assert_no_leak(body)


# ------------------------------------------------------------------------------------------
# Loopback by default
# ------------------------------------------------------------------------------------------


def test_the_server_binds_loopback_by_default(seed_build):
    import inspect

    from kg.cli import build_parser

    assert inspect.signature(make_server).parameters["host"].default == "127.0.0.1"
    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"
    out, _ = seed_build
    srv = make_server(out / "store", port=0, workers=1, quiet=True)
    try:
        assert srv.server_address[0] == "127.0.0.1"
        address = _outward_address()
        if address is None:
            return
        with pytest.raises(OSError):
            socket.create_connection((address, srv.server_address[1]), timeout=2).close()
    finally:
        srv.server_close()


def _outward_address() -> str | None:
    """An address of this machine that is not loopback, if it has one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


# ------------------------------------------------------------------------------------------
# Named queries stay inside queries/
# ------------------------------------------------------------------------------------------

TRAVERSALS = [
    "../README.md", "../README", "..", ".", "", "/etc/passwd", "/etc/hostname", "queries/../README",
    "..%2fREADME", "%2e%2e%2fREADME", "..%252fREADME", "meetings%00", "meetings\x00", "meetings\x00.rq",
    "meetings\n", "meetings\r\n", " meetings", "meetings/", "meetings/.", "~/x", "\\..\\README", "a/../meetings",
    "secret", "secret.rq", "link-out", "link-out.rq",
]


@pytest.fixture
def guarded_queries(tmp_path):
    """A queries folder with one good query, a link out of it, and a secret beside it."""
    folder = tmp_path / "queries"
    folder.mkdir()
    (folder / "ok.rq").write_text("# ok — fine.\nASK { }\n")
    secret = tmp_path / "secret.rq"
    secret.write_text("# SECRET-CONTENT\nASK { }\n")
    (folder / "link-out.rq").symlink_to(secret)
    (folder / "dir-link").symlink_to(tmp_path)
    return folder, secret


@pytest.mark.parametrize("name", TRAVERSALS)
def test_named_query_lookup_never_leaves_the_folder(guarded_queries, name):
    folder, secret = guarded_queries
    with pytest.raises(QueryError) as error:
        resolve_query_name(name, folder)
    assert "SECRET" not in str(error.value)
    try:
        found = resolve_query_arg(name, folder)
    except QueryError:
        return
    # an explicit existing .rq path may be run by its owner on the command line, never a bare name
    assert name.endswith(".rq") and Path(name).is_file() and isinstance(found, NamedQuery)


def test_the_catalogue_lists_only_the_files_inside(guarded_queries):
    folder, _ = guarded_queries
    assert [q.name for q in list_queries(folder)] == ["ok"]
    assert resolve_query_name("ok", folder).text.endswith("ASK { }\n")


def test_the_command_refuses_traversal_names_without_a_traceback(guarded_queries):
    folder, secret = guarded_queries
    for name in ("../secret", "link-out", "..%2fsecret", "dir-link/secret", "secret"):
        run = cli("query", name, "--graph", str(ROOT / "tests" / "data" / "sample_graph.ttl"),
                  env={"DIPLOGRAPH_QUERIES": str(folder)}, cwd=folder)
        assert run.returncode == 2, (name, run.stdout, run.stderr)
        assert "SECRET" not in run.stdout + run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize("path", [
    "/static/../server.py", "/static/%2e%2e/server.py", "/static/..%2fserver.py", "/static/%2e%2e%2f%2e%2e%2fREADME.md",
    "/static//etc/passwd", "/static/app.js%00.png", "/static/app.js%0a", "/static/.%2e/.%2e/README.md",
    "/static/yasgui/../../server.py", "/%2e%2e/README.md", "/../../../../etc/passwd", "/static/\\..\\server.py",
    "/queries.json/../../README.md", "/static/app.js/",
])
def test_static_files_never_leave_their_folder(server, path):
    answer = raw(server, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] in (b"400", b"404"), head[:100]
    assert b"import " not in body and b"root:" not in body and b"diplograph" not in body
    assert_no_leak(body, server.store_path)


# ------------------------------------------------------------------------------------------
# Errors tell nothing about the machine
# ------------------------------------------------------------------------------------------

_H = b" HTTP/1.1\r\nHost: x\r\n\r\n"
_POST = b"POST /sparql HTTP/1.1\r\nHost: x\r\n"
RAW_REQUESTS = [
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/9.9\r\n\r\n",
    b"GET /sparql?query=" + b"A" * 70000 + _H,
    b"GET / HTTP/1.1\r\n" + b"X-Many: y\r\n" * 200 + b"\r\n",
    b"OPTIONS /sparql" + _H,
    b"TRACE /" + _H,
    b"BREW /pot" + _H,
    _POST + b"Content-Length: abc\r\n\r\n",
    _POST + b"Content-Length: -5\r\nContent-Type: application/sparql-query\r\n\r\n",
    _POST + b"Content-Length: 4\r\nContent-Type: application/sparql-query\r\n\r\n\xff\xfe\xfd\xfc",
    _POST + b"Content-Length: 5\r\nContent-Type: image/png\r\n\r\nASK{}",
    b"POST /elsewhere HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    b"GET /sparql?query=%ff%fe" + _H,
    b"GET /sparql?query=ASK%00%7B%7D" + _H,
    b"GET /sparql?query=ASK%7B%7D&timeout=abc" + _H,
    b"GET /sparql?query=ASK%7B%7D&format=../../etc/passwd" + _H,
    b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\nAccept: image/png\r\n\r\n",
    b"GET /sparql?query=SELECT%20*%20FROM%20%3Cfile:///etc/passwd%3E%20%7B%3Fs%20%3Fp%20%3Fo%7D" + _H,
    b"GET /sparql?query=SELECT%20*%20%7BSERVICE%20%3Cfile:///etc/passwd%3E%20%7B%3Fs%20%3Fp%20%3Fo%7D%7D" + _H,
    b"GET /sparql?query=SELECT%20%3Fx%20%7B%20BIND(%3Cfile:///etc/passwd%3E%20AS%20%3Fx)%20%7D" + _H,
    b"GET /sparql?query=ASK%7B%7D&default-graph-uri=file:///etc/passwd" + _H,
    b"GET /sparql?query=SELECT%20%3Fs%20%7B%3Fs%20%3Fp%20%3Fo%7D&%24s=%3Cfile:///etc/passwd%3E" + _H,
    b"GET /sparql?query=SELECT%20%3Fs%20%7B%3Fs%20%3Fp%20%3Fo%7D&%24s=2024-02-31" + _H,
    b"GET /nowhere/../../etc/passwd" + _H,
]


@pytest.mark.parametrize("request_bytes", RAW_REQUESTS, ids=range(len(RAW_REQUESTS)))
def test_error_answers_are_one_plain_line_without_paths(server, request_bytes):
    answer = raw(server, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/"):  # an HTTP/0.9-style request is answered without headers
        head, body = b"", answer
    assert body, answer[:200]
    assert_no_leak(answer, server.store_path)
    assert b"root:" not in body  # nothing was read from file:///etc/passwd
    status = int(head.split(b" ")[1]) if head else 400
    if status == 200:  # a query that names a file IRI is just a query
        assert json.loads(body)["head"]["vars"]
        return
    assert b"<html" not in body.lower(), body[:200]
    assert len(body.strip().splitlines()) == 1, body[:300]
    assert not head or b"Content-Type: text/plain" in head, head


def test_a_killed_worker_tells_the_client_nothing_about_it(server):
    worker = next(iter(server.pool._all))
    worker.process.kill()
    worker.process.wait(10)
    statuses = []
    for _ in range(4):
        status, _, body = get(server, {"query": "ASK { }"})
        statuses.append(status)
        assert_no_leak(body, server.store_path)
    assert statuses.count(200) >= 3 and set(statuses) <= {200, 500}
    deadline = time.monotonic() + 60
    while len(server.pool._all) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert get(server, {"query": "ASK { }"})[0] == 200


def test_command_errors_are_one_line(seed_build, tmp_path):
    out, _ = seed_build
    bad = tmp_path / "bad.rq"
    bad.write_text("SELECT ?x WHERE { ?x ?y }\n")
    for args in (["query", str(bad), "--store", str(out / "store")],
                 ["query", "meetings-of-actor", "--store", str(out / "store")],
                 ["query", "meetings", "--param", "x=<not an iri>", "--store", str(out / "store")],
                 ["query", "meetings", "--store", str(tmp_path / "no-store")]):
        run = cli(*args)
        assert run.returncode == 2 or run.returncode == 1, run
        assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
