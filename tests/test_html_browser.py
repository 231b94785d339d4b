"""graph.html in a real browser: headless Chromium through Playwright, with the network cut off.

Needs the Debian ``chromium`` package and the ``playwright`` Python package (no browser download: the
system Chromium is used). Skipped when either is missing. Leaves a screenshot in benchmarks/out/graph.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from kg.html import write_graph_html

from .browser import ARGS, CHROMIUM, WATCH_CSP, require_playwright

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "analysis_sample.ttl"
SCREENSHOT = ROOT / "benchmarks" / "out" / "graph.png"

sync_api = require_playwright()



@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def html_file(tmp_path_factory) -> Path:
    graph = Graph().parse(SAMPLE, format="turtle")
    return write_graph_html(graph, tmp_path_factory.mktemp("html") / "graph.html")


@pytest.fixture()
def opened(browser, html_file):
    """The page, loaded offline: every non-file request is aborted and recorded."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    requests: list[str] = []
    problems: list[str] = []

    def block(route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            requests.append(route.request.url)
            route.abort()

    page.route("**/*", block)
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.add_init_script(WATCH_CSP)
    page.goto(html_file.as_uri())
    page.wait_for_function("window.diplograph && window.diplograph.timings.firstDraw", timeout=60_000)
    yield page, requests, problems
    page.close()


def counts(page) -> dict:
    return page.evaluate(
        """() => ({
            nodes: diplograph.nodeView.length,
            edges: diplograph.edgeView.length,
            drawnNodes: diplograph.network.body.nodeIndices.length,
            drawnEdges: diplograph.network.body.edgeIndices.length,
            allNodes: diplograph.nodes.length,
            allEdges: diplograph.edges.length,
        })"""
    )


def test_network_is_drawn_offline_with_every_node_and_edge(opened):
    page, requests, problems = opened
    assert counts(page) == {
        "nodes": 9, "edges": 12, "drawnNodes": 9, "drawnEdges": 12, "allNodes": 9, "allEdges": 12
    }  # fmt: skip
    assert page.evaluate("document.querySelector('#mynetwork canvas') !== null")
    assert page.text_content("#dg-status").startswith("9 of 9 nodes, 12 of 12 edges")
    assert requests == []
    assert page.evaluate("window.__violations") == []
    assert problems == []


def test_filters_by_topic_period_and_type(opened):
    page, requests, _ = opened
    assert page.evaluate("diplograph.setFilters({topic: 'trade'})") == {"nodes": 3, "edges": 2}
    assert counts(page)["drawnEdges"] == 2
    # a month-precision meeting (2024-04) is inside a period of a few April days
    april = page.evaluate("diplograph.setFilters({from: '2024-04-15', to: '2024-04-20'})")
    assert april == {"nodes": 2, "edges": 1}
    # undated meetings drop out of any period; year-only ones stay in their year
    assert page.evaluate("diplograph.setFilters({from: '2023', to: '2023'})") == {"nodes": 2, "edges": 1}
    assert page.evaluate("diplograph.setFilters({types: ['Person']})") == {"nodes": 6, "edges": 9}
    no_persons = page.evaluate("diplograph.setFilters({types: ['State', 'Organization']})")
    assert no_persons == {"nodes": 3, "edges": 1}
    # the controls drive the same filter
    page.evaluate("diplograph.setFilters({})")
    page.select_option("#dg-topic", "security")
    assert counts(page)["edges"] == 4  # Anna-Boris, and the Anna-Emil-OSCE triangle
    page.fill("#dg-from", "2024-05")
    page.press("#dg-from", "Enter")
    page.click("#dg-panel h2")  # blur: fires "change"
    assert counts(page)["edges"] == 3
    page.click("#dg-reset")
    assert counts(page)["nodes"] == 9 and counts(page)["edges"] == 12
    assert requests == []


def test_tooltips_hold_the_evidence_as_plain_text(opened):
    page, _, _ = opened
    tip = page.evaluate(
        """() => {
            const quote = (e) => e.m.some((m) => m[2].some((q) => q.includes("alert")));
            const edge = diplograph.edges.get().find(quote);
            const title = edge.title;
            return {
                isElement: title instanceof HTMLElement,
                text: title.textContent,
                scripts: title.querySelectorAll("script").length,
                bold: title.querySelectorAll("b").length,
            };
        }"""
    )
    assert tip["isElement"] and tip["scripts"] == 0 and tip["bold"] == 0
    assert "<script>alert('x')</script>" in tip["text"] and "2024-05-02 · security" in tip["text"]
    assert page.evaluate("window.__xss === undefined")


def test_hovering_an_edge_shows_its_meetings_and_a_screenshot_is_saved(opened):
    page, requests, _ = opened
    page.wait_for_function("diplograph.timings.stabilized !== undefined", timeout=60_000)
    page.wait_for_timeout(300)
    point = page.evaluate(
        """() => {
            const net = diplograph.network;
            const edge = diplograph.edges.get().find((e) => e.w === 3);
            const pos = net.getPositions([edge.from, edge.to]);
            const a = pos[edge.from], b = pos[edge.to];
            const mid = {x: (a.x + b.x) / 2, y: (a.y + b.y) / 2};
            const dom = net.canvasToDOM(mid);
            const box = document.getElementById("mynetwork").getBoundingClientRect();
            return {x: box.left + dom.x, y: box.top + dom.y};
        }"""
    )
    page.mouse.move(point["x"] - 3, point["y"] - 1)
    page.mouse.move(point["x"], point["y"])
    page.wait_for_function(
        "() => { const t = document.querySelector('div.vis-tooltip');"
        " return t && t.style.visibility === 'visible'; }",
        timeout=10_000,
    )
    text = page.text_content("div.vis-tooltip")
    assert "Anna Berg" in text and "Boris Ivanov" in text and "3 meetings" in text
    assert "in Vienna to discuss security and trade" in text
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000
    assert requests == []
