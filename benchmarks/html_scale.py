"""How graph.html scales: file size, build time and time to first draw in headless Chromium.

Run on demand (not a test):

    .venv/bin/python benchmarks/html_scale.py [--sizes 500 2000 10000] [--out benchmarks/out]

For each size it generates a meeting-like graph (power-law clustered, about two edges per node, persons,
states and organisations, one to three meetings per edge with dates, topics and a ~150-character quote),
writes it with :func:`kg.html.write_graph_html`, opens it in headless Chromium (Playwright, system
``/usr/bin/chromium``, every non-file request aborted) and reads the page's own timings
(``performance.now()`` since navigation): JSON parsed, tooltips built, network created, first
``afterDrawing``. It prints a Markdown table and writes ``html_scale.json`` and a screenshot per size.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kg import html as page  # noqa: E402

ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]  # fmt: skip
TOPICS = ["security", "trade", "energy", "culture", "migration", "transport", "health", "digital"]
WORDS = "minister met counterpart discussed cooperation regional bilateral agenda visit talks signed".split()


def generated_graph(n: int, seed: int = 1) -> nx.Graph:
    rng = random.Random(seed)
    base = nx.powerlaw_cluster_graph(n, 2, 0.3, seed=seed)
    graph = nx.Graph(projection="actor")
    kinds = ["Person"] * 8 + ["State"] + ["Organization"]
    for i in sorted(base):
        graph.add_node(
            f"urn:test:{i:06d}", label=f"Actor {i}", type=rng.choice(kinds), affiliation="", meetings=0
        )
    for u, v in sorted(base.edges):
        count = rng.choice([1, 1, 1, 2, 3])
        dates = sorted(
            f"20{rng.randint(18, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" for _ in range(count)
        )
        topics = [sorted(rng.sample(TOPICS, rng.randint(1, 2))) for _ in range(count)]
        quotes = [[" ".join(rng.choice(WORDS) for _ in range(22)) + "."] for _ in range(count)]
        graph.add_edge(
            f"urn:test:{u:06d}", f"urn:test:{v:06d}", weight=count, dates=dates, meeting_topics=topics,
            meeting_quotes=quotes, meetings=[f"urn:meeting:{u}-{v}-{k}" for k in range(count)],
        )  # fmt: skip
    for node in graph:
        graph.nodes[node]["meetings"] = int(graph.degree(node, weight="weight"))
    return graph


def measure(sizes: list[int], out: Path, chromium: str) -> list[dict]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS, headless=True)
        for n in sizes:
            graph = generated_graph(n)
            start = time.perf_counter()
            positions = page.layout_positions(graph)
            layout_s = time.perf_counter() - start
            start = time.perf_counter()
            path = page.write_graph_html(graph, out / f"scale_{n}.html")
            build_s = time.perf_counter() - start
            assert len(positions) == n
            tab = browser.new_page(viewport={"width": 1400, "height": 900})
            blocked: list[str] = []

            def block(route, blocked=blocked):
                if route.request.url.startswith("file:"):
                    route.continue_()
                else:
                    blocked.append(route.request.url)
                    route.abort()

            tab.route("**/*", block)
            start = time.perf_counter()
            tab.goto(path.as_uri(), timeout=600_000)
            tab.wait_for_function(
                "window.diplograph && diplograph.timings.firstDraw", timeout=600_000, polling=50
            )
            wall_s = time.perf_counter() - start
            timings = tab.evaluate("diplograph.timings")
            shown = tab.evaluate("[diplograph.nodeView.length, diplograph.edgeView.length]")
            start = time.perf_counter()
            filtered = tab.evaluate("diplograph.setFilters({topic: 'trade'})")
            filter_s = time.perf_counter() - start
            tab.evaluate("diplograph.setFilters({})")
            tab.wait_for_timeout(500)
            tab.screenshot(path=str(out / f"scale_{n}.png"))
            tab.close()
            row = {
                "nodes": n,
                "edges": graph.number_of_edges(),
                "html_mb": round(path.stat().st_size / 1e6, 2),
                "layout_s": round(layout_s, 2),
                "build_s": round(build_s, 2),
                "json_parsed_ms": round(timings["parsed"]),
                "tooltips_ms": round(timings["tooltips"] - timings["parsed"]),
                "network_created_ms": round(timings["created"]),
                "first_draw_ms": round(timings["firstDraw"]),
                "wall_to_first_draw_s": round(wall_s, 2),
                "topic_filter_s": round(filter_s, 2),
                "shown": shown,
                "filtered": [filtered["nodes"], filtered["edges"]],
                "physics": n <= page.PHYSICS_LIMIT,
                "blocked_requests": len(blocked),
            }
            results.append(row)
            print(json.dumps(row), file=sys.stderr)
        browser.close()
    return results


def table(results: list[dict]) -> str:
    lines = [
        "| nodes | edges | HTML MB | layout s | build s (incl. layout) | data parsed at ms | tooltips ms "
        "| first draw at ms | wall to first draw s | topic filter s | blocked requests |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['nodes']} | {r['edges']} | {r['html_mb']} | {r['layout_s']} | {r['build_s']} | "
            f"{r['json_parsed_ms']} | {r['tooltips_ms']} | {r['first_draw_ms']} | "
            f"{r['wall_to_first_draw_s']} | "
            f"{r['topic_filter_s']} | {r['blocked_requests']} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 10000])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    results = measure(args.sizes, args.out, args.chromium)
    (args.out / "html_scale.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
