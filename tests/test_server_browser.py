"""The query page of ``diplograph serve`` in headless Chromium: type a query, run it, see rows; offline.

Needs the Debian ``chromium`` package and the ``playwright`` Python package (no browser download: the
system Chromium is used). Skipped when either is missing. Leaves a screenshot in benchmarks/out/yasgui.png.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from kg.server import make_server

from .browser import ARGS, CHROMIUM, WATCH_CSP, require_playwright

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "sample_graph.ttl"
SCREENSHOT = ROOT / "benchmarks" / "out" / "yasgui.png"

sync_api = require_playwright()


# The browser logs a query refused with a 4xx status as a console error; the page shows it to the user.
EXPECTED_HTTP_ERROR = "Failed to load resource: the server responded with a status of 4"

TYPED_QUERY = """PREFIX dg: <https://w3id.org/diplograph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?date ?label WHERE {
  ?meeting a dg:Meeting ; rdfs:label ?label ; dg:date ?date .
  FILTER(CONTAINS(STR(?label), "Nurtleu"))
}
ORDER BY ?date"""


@pytest.fixture(scope="module")
def server():
    srv = make_server(SAMPLE, port=0, timeout_s=10, workers=1, quiet=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, server):
    """The page in a fresh context; any request that leaves the server is aborted and recorded."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    outside: list[str] = []
    problems: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(server.url) or url.startswith("data:"):
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
            if message.type == "error" and not message.text.startswith(EXPECTED_HTTP_ERROR) else None)
    page.add_init_script(WATCH_CSP)
    page.goto(server.url)
    page.wait_for_selector("#query-list button")
    page.wait_for_selector(".yasqe .CodeMirror")
    yield page
    assert outside == [], f"the page tried to reach the network: {outside}"
    assert problems == []
    assert page.evaluate("window.__violations") == []
    context.close()


def test_type_a_query_run_it_and_see_rows(page):
    editor = page.locator(".yasqe .CodeMirror").first
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(TYPED_QUERY)
    assert "CONTAINS(STR(?label)" in page.locator(".yasqe .CodeMirror-code").inner_text()
    assert page.locator("#params").is_hidden()  # the example query's ?from/?to went with its text
    page.locator(".yasqe_queryButton").first.click()
    page.wait_for_selector(".yasr .dataTable tbody tr td")
    rows = page.locator(".yasr .dataTable tbody tr")
    assert rows.count() == 5
    text = page.locator(".yasr .dataTable tbody").inner_text()
    assert "Murat Nurtleu – Ian Borg, 2024-06-26" in text
    assert "Timčo Mucunski – Murat Nurtleu, 2024-09" in text
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))


def test_a_named_query_with_its_parameters(page):
    page.locator("#query-list button[data-name='meetings-between']").click()
    form = page.locator("#params-form")
    assert form.locator("input[name='a']").input_value() == "Murat Nurtleu"
    form.locator("input[name='b']").fill("Alexander Schallenberg")
    page.locator(".yasqe_queryButton").first.click()
    page.wait_for_selector(".yasr .dataTable tbody tr td")
    text = page.locator(".yasr .dataTable tbody").inner_text()
    assert page.locator(".yasr .dataTable tbody tr").count() == 2
    assert "Vienna" in text and "Skopje" in text
    form.locator("input[name='b']").fill("Ian Borg")
    page.locator(".yasqe_queryButton").first.click()
    sync_api.expect(page.locator(".yasr .dataTable tbody")).to_contain_text("Astana")


def test_an_error_is_shown_not_a_crash(page):
    editor = page.locator(".yasqe .CodeMirror").first
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text("SELECT * WHERE { ?s ?p ?o . ?a ?b ?c . ?d ?e ?f }")
    page.locator(".yasqe_queryButton").first.click()
    page.wait_for_selector(".yasr .errorResult")
    assert "more than 10000 rows" in page.locator(".yasr .errorResult").inner_text()
