"""The SPARQL endpoint: protocol, content negotiation, read-only, limits, safe errors, the page."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from SPARQLWrapper import CSV, JSON, TSV, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from kg.iri import mint
from kg.server import make_server, negotiate, parse_accept
from kg.store import build_store

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "sample_graph.ttl"
PREFIXES = "PREFIX dg: <https://w3id.org/diplograph/ontology#>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # 178 million rows
TIMEOUT_S = 2.0
MAX_ROWS = 200


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    store = tmp_path_factory.mktemp("served") / "store"
    build_store(SAMPLE, store)
    srv = make_server(store, port=0, timeout_s=TIMEOUT_S, max_rows=MAX_ROWS, workers=2, quiet=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    srv.store_path = store
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(10)


@pytest.fixture
def endpoint(server):
    return server.url + "sparql"


def http(url, data=None, headers=None, method=None):
    """(status, headers, body text) without raising on HTTP errors."""
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, _text(response.headers, response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, _text(error.headers, error.read())


def _text(headers, body: bytes) -> str:
    if headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return body.decode("utf-8")


def get(endpoint, query, accept=None, **extra):
    params = urllib.parse.urlencode({"query": query, **extra})
    return http(f"{endpoint}?{params}", headers={"Accept": accept} if accept else {})


def assert_safe_error(body, server):
    assert "Traceback" not in body and 'File "' not in body
    assert str(server.store_path) not in body and str(ROOT) not in body and "site-packages" not in body
    assert len(body.splitlines()) == 1


# ------------------------------------------------------------------------------------------
# A SPARQL client
# ------------------------------------------------------------------------------------------


def test_sparqlwrapper_select_json_finds_a_known_pair(endpoint):
    client = SPARQLWrapper(endpoint)
    client.setQuery(PREFIXES + """
        SELECT ?a ?b WHERE {
          ?m a dg:Meeting ; dg:participant ?x, ?y .
          ?x rdfs:label ?a . ?y rdfs:label ?b . FILTER(STR(?a) < STR(?b))
        }""")
    client.setReturnFormat(JSON)
    document = client.query().convert()
    assert document["head"]["vars"] == ["a", "b"]
    pairs = {(row["a"]["value"], row["b"]["value"]) for row in document["results"]["bindings"]}
    assert ("Ian Borg", "Murat Nurtleu") in pairs


def test_sparqlwrapper_other_formats_and_methods(endpoint):
    query = PREFIXES + "SELECT ?s ?label WHERE { ?s a dg:State ; rdfs:label ?label } ORDER BY ?s"
    client = SPARQLWrapper(endpoint)
    client.setQuery(query)
    client.setReturnFormat(XML)
    xml = client.query().convert()
    assert len(xml.getElementsByTagName("result")) == 7
    client.setReturnFormat(CSV)
    csv_text = client.query().convert().decode("utf-8")
    assert csv_text.splitlines()[0] == "s,label"
    assert "https://w3id.org/diplograph/id/state/AT,Austria" in csv_text
    client.setReturnFormat(TSV)
    tsv_text = client.query().convert().decode("utf-8")
    assert tsv_text.splitlines()[1] == '<https://w3id.org/diplograph/id/state/AT>\t"Austria"@en'
    client.setMethod("POST")  # a urlencoded form
    client.setReturnFormat(JSON)
    assert len(client.query().convert()["results"]["bindings"]) == 7
    client.setQuery(PREFIXES + "ASK { <https://w3id.org/diplograph/id/state/KZ> a dg:State }")
    client.setMethod("GET")
    assert client.query().convert()["boolean"] is True


def test_sparqlwrapper_construct_as_turtle(endpoint):
    client = SPARQLWrapper(endpoint)
    client.setQuery(PREFIXES + "CONSTRUCT { ?s a dg:State } WHERE { ?s a dg:State }")
    client.setReturnFormat(TURTLE)
    data = client.query().convert()
    graph = Graph().parse(data=data, format="turtle")
    assert len(graph) == 7


def test_sparqlwrapper_update_is_refused(server, endpoint):
    client = SPARQLWrapper(endpoint)
    client.setMethod("POST")
    client.setQuery("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    with pytest.raises(urllib.error.HTTPError) as caught:
        client.query()
    assert caught.value.code == 403
    body = caught.value.read().decode("utf-8")
    assert "read-only" in body
    assert_safe_error(body, server)
    status, _, body = get(endpoint, "ASK { <urn:a> <urn:b> <urn:c> }")
    assert status == 200 and json.loads(body)["boolean"] is False


def test_sparqlwrapper_malformed_query(server, endpoint):
    client = SPARQLWrapper(endpoint)
    client.setQuery("SELECT ?x\nWHERE { ?x ?y }")
    client.setReturnFormat(JSON)
    with pytest.raises(QueryBadFormed) as caught:
        client.query()
    assert re.search(r"malformed query at line \d+, column \d+", str(caught.value))


# ------------------------------------------------------------------------------------------
# The protocol by hand
# ------------------------------------------------------------------------------------------


def test_content_negotiation(endpoint):
    query = PREFIXES + "SELECT ?s WHERE { ?s a dg:Organization }"
    for accept, media in [
        (None, "application/sparql-results+json"),
        ("*/*", "application/sparql-results+json"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv;q=0.9, text/tab-separated-values", "text/tab-separated-values"),
        ("application/json", "application/sparql-results+json"),
    ]:
        status, headers, _ = get(endpoint, query, accept)
        assert status == 200 and headers["Content-Type"].startswith(media), accept
    status, headers, body = get(endpoint, query, "text/csv", format="json")
    assert status == 200 and headers["Content-Type"].startswith("application/sparql-results+json")
    status, _, body = get(endpoint, query, "image/png")
    assert status == 406 and "SPARQL results" in body

    construct = PREFIXES + "CONSTRUCT { ?s a dg:Organization } WHERE { ?s a dg:Organization }"
    status, headers, body = get(endpoint, construct, "application/n-triples")
    assert status == 200 and headers["Content-Type"].startswith("application/n-triples")
    assert body.strip() == ("<https://w3id.org/diplograph/id/org/osce> "
                            "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
                            "<https://w3id.org/diplograph/ontology#Organization> .")
    status, headers, body = get(endpoint, construct, "application/sparql-results+json, text/turtle;q=0.5")
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    status, headers, body = get(endpoint, construct, "application/ld+json")
    assert status == 200 and json.loads(body)
    status, headers, body = get(endpoint, f"DESCRIBE <{mint('state', 'KZ')}>", "text/turtle")
    assert status == 200 and len(Graph().parse(data=body, format="turtle")) > 5


def test_post_forms_and_direct_queries(endpoint):
    query = PREFIXES + "SELECT (COUNT(?p) AS ?n) WHERE { ?p a dg:Person }"
    form = urllib.parse.urlencode({"query": query}).encode()
    status, _, body = http(endpoint, form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and json.loads(body)["results"]["bindings"][0]["n"]["value"] == "9"
    status, _, body = http(endpoint, query.encode(), {"Content-Type": "application/sparql-query",
                                                       "Accept": "text/csv"})
    assert status == 200 and body.splitlines() == ["n", "9"]


def test_updates_are_refused_every_way(server, endpoint):
    update = "DELETE WHERE { ?s ?p ?o }"
    cases = [
        get(endpoint, update),
        http(endpoint, urllib.parse.urlencode({"update": update}).encode(),
             {"Content-Type": "application/x-www-form-urlencoded"}),
        http(endpoint, update.encode(), {"Content-Type": "application/sparql-update"}),
        http(endpoint, update.encode(), {"Content-Type": "application/sparql-query"}),
        http(endpoint, b"", method="PUT"),
        http(endpoint, b"", method="DELETE"),
    ]
    for status, _, body in cases:
        assert status in (403, 405) and "read-only" in body, (status, body)
        assert_safe_error(body, server)
    status, _, body = get(endpoint, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "text/csv")
    assert status == 200 and int(body.splitlines()[1]) == len(Graph().parse(SAMPLE))


def test_a_slow_query_is_stopped_and_the_server_keeps_serving(server, endpoint):
    status, _, body = get(endpoint, SLOW)
    assert status == 504 and f"time limit of {TIMEOUT_S:g} s" in body
    assert_safe_error(body, server)
    for _ in range(3):  # the killed worker is replaced; the other one answers meanwhile
        status, _, body = get(endpoint, PREFIXES + "ASK { ?m a dg:Meeting }")
        assert status == 200 and json.loads(body)["boolean"] is True
    status, _, body = get(endpoint, SLOW, timeout="0.5")  # a client may ask for a shorter limit
    assert status == 504 and "time limit of 0.5 s" in body
    status, _, body = get(endpoint, PREFIXES + "SELECT ?s WHERE { ?s a dg:City }", "text/csv")
    assert status == 200 and len(body.splitlines()) == 6


def test_result_size_limit(server, endpoint):
    status, _, body = get(endpoint, "SELECT * WHERE { ?s ?p ?o }")
    assert status == 422 and f"more than {MAX_ROWS} rows" in body
    status, _, body = get(endpoint, "SELECT * WHERE { ?s ?p ?o } LIMIT 10", "text/csv")
    assert status == 200 and len(body.splitlines()) == 11


def test_errors_are_short_and_reveal_nothing(server, endpoint):
    cases = [
        get(endpoint, "SELECT ?x WHERE { ?x ?y }"),
        get(endpoint, "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"),
        http(endpoint),  # no query
        http(f"{endpoint}?query=ASK%7B%7D&query=ASK%7B%7D"),
        get(endpoint, "ASK {}", **{"default-graph-uri": "urn:g"}),
        http(endpoint, b"query=x", {"Content-Type": "text/plain"}),
        http(server.url + "nowhere"),
        http(server.url + "static/../../kg/server.py"),
        http(server.url + "static/%2e%2e/server.py"),
        get(endpoint, "SELECT ?s WHERE { ?s ?p ?o }", **{"$s": "<not an iri>"}),
        get(endpoint, "SELECT ?o WHERE { ?s ?p ?o } LIMIT 1", **{"$o": "2024-02-31"}),
    ]
    statuses = []
    for status, headers, body in cases:
        statuses.append(status)
        assert 400 <= status < 500, (status, body)
        assert headers["Content-Type"].startswith("text/plain")
        assert_safe_error(body, server)
    assert statuses == [400, 403, 400, 400, 400, 415, 404, 404, 404, 400, 400]
    assert "line" in cases[0][2] and "column" in cases[0][2]


def test_dollar_parameters_are_bound_as_terms(endpoint):
    query = PREFIXES + "SELECT ?p ?name WHERE { ?p rdfs:label ?name }"
    status, _, body = get(endpoint, query, "text/csv", **{"$name": "Ian Borg"})
    assert status == 200 and body.splitlines()[1] == f"{mint('person', 'Ian Borg')},Ian Borg"
    status, _, body = get(endpoint, query, "text/csv", **{"$p": "dgid:state/KZ"})
    assert body.splitlines()[1:] == ["https://w3id.org/diplograph/id/state/KZ,Kazakhstan"]
    status, _, body = get(endpoint, query, "text/csv", **{"$name": 'x" } UNION { ?p ?q ?name } #'})
    assert status == 200 and body.splitlines() == ["p,name"]


def test_the_page_and_the_catalogue(server):
    status, headers, body = http(server.url)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "/static/yasgui/yasgui.min.js" in body and "/static/app.js" in body
    assert "https://" not in body.replace("https://w3id.org", "")  # nothing to fetch from the network
    gzip_ok = {"Accept-Encoding": "gzip"}
    status, headers, script = http(server.url + "static/yasgui/yasgui.min.js", headers=gzip_ok)
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert headers["Content-Encoding"] == "gzip" and "Yasgui" in script
    status, headers, body = http(server.url + "queries.json")
    catalogue = json.loads(body)
    names = {q["name"] for q in catalogue["queries"]}
    assert names == {p.stem for p in (ROOT / "queries").glob("*.rq")}
    actor = next(q for q in catalogue["queries"] if q["name"] == "meetings-of-actor")
    assert actor["params"][0]["name"] == "actor" and actor["example_params"] == {"actor": "Murat Nurtleu"}
    assert str(ROOT) not in body and "path" not in actor
    assert catalogue["triples"] == len(Graph().parse(SAMPLE)) and catalogue["max_rows"] == MAX_ROWS


def test_named_queries_run_through_the_endpoint_with_their_example_parameters(server, endpoint):
    catalogue = json.loads(http(server.url + "queries.json")[2])
    for named in catalogue["queries"]:
        extra = {f"${k}": v for k, v in named["example_params"].items()}
        status, _, body = get(endpoint, named["query"], "application/sparql-results+json, text/turtle;q=0.9",
                              **extra)
        assert status == 200, (named["name"], body)


def test_gzip_for_large_results(endpoint):
    request = urllib.request.Request(
        f"{endpoint}?{urllib.parse.urlencode({'query': 'SELECT * WHERE { ?s ?p ?o } LIMIT 150'})}",
        headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Encoding"] == "gzip"


def test_binds_loopback_by_default(server):
    assert server.server_address[0] == "127.0.0.1"


def test_negotiation_helpers():
    assert [m for m, _, _ in parse_accept("a/b;q=0.1, c/d, e/f;q=0")] == ["c/d", "a/b"]
    assert negotiate("ask", "text/tab-separated-values") == "tsv"
    assert negotiate("graph", "text/*") == "turtle"
    assert negotiate("graph", None, "json") == "jsonld"
    assert negotiate("select", None, "turtle") is None


def test_serve_command_end_to_end(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-m", "kg", "serve", "--graph", str(SAMPLE), "--port", "0", "--quiet",
         "--workers", "1"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env, cwd=tmp_path)
    try:
        line = process.stderr.readline()
        match = re.search(r"SPARQL endpoint (http://127\.0\.0\.1:\d+/sparql)", line)
        assert match, line
        client = SPARQLWrapper(match.group(1))
        client.setQuery(PREFIXES + "SELECT ?s WHERE { ?s a dg:Organization }")
        client.setReturnFormat(JSON)
        bindings = client.query().convert()["results"]["bindings"]
        assert [URIRef(b["s"]["value"]) for b in bindings] == [mint("org", "osce")]
    finally:
        process.terminate()
        process.wait(20)


def test_serve_refuses_a_missing_store(tmp_path, capsys):
    import kg.cli

    code = kg.cli.main(["serve", "--store", str(tmp_path / "nothing"), "--port", "0"])
    assert code == 1 and "no such store directory or RDF file" in capsys.readouterr().err


def test_a_named_query_sent_by_text_has_its_names_resolved_first(server, endpoint):
    """The browser page sends the text of a named query: the endpoint recognises it and resolves its
    "IRI or name -> ?v" parameters first, as ``diplograph query`` does, with the same rows."""
    from kg.query import resolve_query_name, run_named
    from kg.store import open_store

    named = resolve_query_name("meetings-of-actor")
    assert [p.name for p in server.resolving_params(named.text)] == ["actor"]
    assert server.resolving_params(named.text + "\n") and server.resolving_params("SELECT * {}") == ()
    status, _, body = get(endpoint, named.text, "application/sparql-results+json", **{"$actor": "ian BORG"})
    assert status == 200
    served = sorted(b["meeting"]["value"] for b in json.loads(body)["results"]["bindings"])
    local = run_named(open_store(SAMPLE), named, {"actor": Literal("ian BORG")}).dicts()
    assert served and served == sorted(str(row["meeting"]) for row in local)
