"""``diplograph push`` against a real Graph Store: the Oxigraph server (PyPI package ``oxigraph``) started on
loopback by the test; whole and chunked uploads, named graphs per article, replace vs append, Basic
authentication, and errors."""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from kg.errors import UserError
from kg.push import PushError, chunks, graph_url, push

ROOT = Path(__file__).resolve().parent.parent
_XSD = "http://www.w3.org/2001/XMLSchema#"


def _oxigraph_binary() -> str | None:
    beside_python = Path(sys.executable).with_name("oxigraph")
    return str(beside_python) if beside_python.exists() else shutil.which("oxigraph")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    binary = _oxigraph_binary()
    if binary is None:
        pytest.skip("the Oxigraph server is not installed (pip install oxigraph)")
    port = _free_port()
    location = tmp_path_factory.mktemp("oxigraph-server")
    process = subprocess.Popen([binary, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{base}/query?query=ASK%7B%7D", timeout=2).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the Oxigraph server did not start: {process.stderr.read().decode()[-500:]}")
            time.sleep(0.1)
    yield base
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from kg.pipeline import build

    out = tmp_path_factory.mktemp("push-build")
    build(ROOT / "seeds", out, progress=lambda m: None, store=False, html=False, jobs=1)
    return out / "graph.ttl"


def _get(server: str, graph: str | None) -> Graph:
    request = urllib.request.Request(graph_url(f"{server}/store", graph), headers={"Accept": "application/n-triples"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return Graph().parse(data=response.read(), format="nt")


def _same(remote: Graph, local: Graph) -> bool:
    """Isomorphic, but for Oxigraph storing xsd:nonNegativeInteger (dg:startOffset) as xsd:integer."""
    def normalised(graph: Graph) -> Graph:
        copy = Graph()
        for s, p, o in graph:
            if isinstance(o, Literal) and o.datatype == URIRef(_XSD + "nonNegativeInteger"):
                o = Literal(str(o), datatype=URIRef(_XSD + "integer"))
            copy.add((s, p, o))
        return copy

    return len(remote) == len(local) and isomorphic(normalised(remote), normalised(local))


def _graph_names(server: str) -> set[str]:
    query = urllib.parse.quote("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    request = urllib.request.Request(f"{server}/query?query={query}", headers={"Accept": "text/csv"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return set(response.read().decode().split()[1:])


def test_whole_graph_into_the_default_graph(server, built):
    report = push(built, f"{server}/store")
    local = Graph().parse(built)
    assert report.requests == 1 and report.graphs == {"default": len(local)}
    assert _same(_get(server, None), local)


def test_chunked_upload_keeps_blank_nodes_whole(server, built):
    local = Graph().parse(built)
    assert any(isinstance(term, BNode) for triple in local for term in triple)  # the ontology's axioms
    target = "https://example.org/graph/chunked"
    messages = []
    report = push(built, f"{server}/store", target, chunk_triples=100, progress=messages.append)
    assert report.requests >= len(local) // 100
    assert messages[0].startswith("PUT ") and all(m.startswith("POST ") for m in messages[1:])
    assert _same(_get(server, target), local)


def test_put_replaces_and_append_adds(server, built, tmp_path):
    target = "https://example.org/graph/replace"
    small = tmp_path / "small.ttl"
    small.write_text("<urn:x:a> <urn:x:p> <urn:x:b> .\n", encoding="utf-8")
    push(built, f"{server}/store", target)
    push(small, f"{server}/store", target)  # replaces
    assert len(_get(server, target)) == 1
    push(built, f"{server}/store", target, append=True, chunk_triples=500)
    assert len(_get(server, target)) == len(Graph().parse(built)) + 1
    empty = tmp_path / "empty.nt"
    empty.write_text("", encoding="utf-8")
    push(empty, f"{server}/store", target)  # an empty file empties the graph
    assert len(_get(server, target)) == 0


def test_named_graph_per_article_from_nquads_and_from_turtle(server, built, tmp_path):
    from kg.export import nquads_export

    nquads = tmp_path / "graph.nq"
    nquads.write_bytes(nquads_export(Graph().parse(built)))
    report = push(nquads, f"{server}/store", chunk_triples=50)
    dataset = Dataset()
    dataset.parse(nquads, format="nquads")
    expected = {str(g.identifier) for g in dataset.graphs() if len(g) and isinstance(g.identifier, URIRef)
                and not str(g.identifier).startswith("urn:x-rdflib")}
    assert sum(1 for g in expected if "/graph/article/" in g) == 5
    assert _graph_names(server) >= expected
    for name in expected:
        assert _same(_get(server, name), dataset.graph(URIRef(name))), name
    # the Turtle file split per article gives the same graphs
    again = push(built, f"{server}/store", per_article=True)
    assert set(again.graphs) - {"default"} == expected
    assert again.graphs == report.graphs
    with pytest.raises(UserError, match="per-article"):
        push(nquads, f"{server}/store", per_article=True)


def test_chunks_never_split_blank_node_groups():
    data = "\n".join(
        [f"<urn:s{i}> <urn:p> <urn:o{i}> ." for i in range(25)]
        + ["<urn:c> <urn:list> _:l1 .", "_:l1 <urn:first> <urn:a> .", "_:l1 <urn:rest> _:l2 .",
           "_:l2 <urn:first> <urn:b> .", "_:x <urn:p> <urn:y> ."]
    )
    statements = [(None, ox.Triple(q.subject, q.predicate, q.object))
                  for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)]
    parts = list(chunks(statements, chunk_triples=10))
    assert [len(triples) for _, triples in parts] == [10, 10, 10]  # 5 plain triples, then whole groups
    list_group = [t for t in parts[2][1] if "l" in _blank_labels(t)]
    assert len(list_group) == 4  # the list's four triples travel together
    assert [len(t) for _, t in chunks(statements, chunk_triples=3)][-3:] == [1, 4, 1]  # a group over the limit


def _blank_labels(triple) -> str:
    return "".join(t.value for t in (triple.subject, triple.object) if isinstance(t, ox.BlankNode))


class _AuthHandler(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []

    def _handle(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        expected = "Basic " + base64.b64encode(b"alice:s3cret").decode()
        if self.headers.get("Authorization") != expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="store"')
            self.end_headers()
            self.wfile.write(b"who are you?")
            return
        type(self).received.append((self.command, self.path, body))
        self.send_response(204)
        self.end_headers()

    do_PUT = do_POST = _handle

    def log_message(self, *args):
        pass


@pytest.fixture()
def auth_server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _AuthHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _AuthHandler.received = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}/rdf-graphs/service"
    httpd.shutdown()
    httpd.server_close()


def test_basic_authentication(auth_server, built):
    with pytest.raises(PushError, match="HTTP 401.*--user/--password"):
        push(built, auth_server, user="alice", password="wrong")
    report = push(built, auth_server, "urn:g", user="alice", password="s3cret", chunk_triples=1000)
    methods = [m for m, _, _ in _AuthHandler.received]
    assert methods[0] == "PUT" and set(methods[1:]) <= {"POST"} and len(methods) == report.requests
    assert all(path.endswith("?graph=urn%3Ag") for _, path, _ in _AuthHandler.received)


def test_cli_push_with_password_from_the_environment(auth_server, built, monkeypatch, capsys):
    from kg.cli import main

    monkeypatch.setenv("DIPLOGRAPH_PUSH_PASSWORD", "s3cret")
    assert main(["push", str(built), "--endpoint", auth_server, "--user", "alice", "-q"]) == 0
    assert "pushed" in capsys.readouterr().err
    assert _AuthHandler.received and _AuthHandler.received[0][1].endswith("?default")
    assert main(["push", str(built), "--endpoint", "ftp://example.org/store"]) == 1
    assert "http:// or https://" in capsys.readouterr().err


def test_unreachable_server_and_bad_arguments(built, tmp_path):
    with pytest.raises(PushError, match="cannot reach the server"):
        push(built, f"http://127.0.0.1:{_free_port()}/store", timeout=5)
    with pytest.raises(UserError, match="absolute IRI"):
        push(built, "http://127.0.0.1:1/store", "not an iri")
    with pytest.raises(UserError, match="no such file"):
        push(tmp_path / "missing.ttl", "http://127.0.0.1:1/store")
