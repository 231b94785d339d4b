"""A bounded load test of ``diplograph serve`` on loopback; run on demand (not part of the tests).

    .venv/bin/python benchmarks/endpoint_load.py                       # seeds built into a temporary folder
    .venv/bin/python benchmarks/endpoint_load.py --store exports/store --requests 2000 --clients 20

It starts the real command (``python -m kg serve --port 0``) as a subprocess, warms it up with one request
per named query, then sends ``--requests`` requests from ``--clients`` threads (each thread keeps one
HTTP/1.1 connection open), cycling through every named query of ``queries/`` with the parameters of its
``Example:`` line as ``$name`` fields, over ``--rounds`` rounds. It reports:

- errors: any answer other than 200 or a failed connection (there must be none);
- latency p50/p90/p99/max of whole requests (client side, in milliseconds), per round and per query;
- throughput per round;
- the resident memory (RSS) of the server process and of its query workers after the warm-up and after
  every round, read with psutil (or /proc), to show it does not grow with the number of requests.

The numbers go to stdout and, as JSON, to ``benchmarks/out/endpoint_load.json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import queue
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.query import list_queries  # noqa: E402

OUT = ROOT / "benchmarks" / "out" / "endpoint_load.json"


def example_params(named) -> dict[str, str]:
    params: dict[str, str] = {}
    for example in named.examples[:1]:
        words = shlex.split(example)
        for i, word in enumerate(words[:-1]):
            if word in ("--param", "-p") and "=" in words[i + 1]:
                name, _, value = words[i + 1].partition("=")
                params[f"${name.lstrip('?$')}"] = value
    return params


def request_paths() -> list[tuple[str, str]]:
    """(query name, request path) for every named query."""
    paths = []
    for named in list_queries():
        fields = {"query": named.text, **example_params(named)}
        paths.append((named.name, "/sparql?" + urllib.parse.urlencode(fields)))
    return paths


# ------------------------------------------------------------------------------------------
# The server and its memory
# ------------------------------------------------------------------------------------------


def start_server(store: Path, workers: int, timeout_s: float) -> tuple[subprocess.Popen, str, int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "kg", "serve", "--store", str(store), "--port", "0", "--quiet",
               "--workers", str(workers), "--timeout", str(timeout_s)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    line = process.stderr.readline()
    match = re.search(r"SPARQL endpoint http://(127\.0\.0\.1):(\d+)/sparql", line)
    if not match:
        process.kill()
        raise SystemExit(f"the server did not start: {line}{process.stderr.read()}")
    threading.Thread(target=process.stderr.read, daemon=True).start()  # keep its pipe drained
    return process, match.group(1), int(match.group(2))


def rss_mib(pid: int) -> dict[str, float]:
    """RSS of the server process and the sum over its children (the query workers), in MiB."""
    try:
        import psutil

        parent = psutil.Process(pid)
        children = parent.children(recursive=True)
        return {"server": parent.memory_info().rss / 2**20,
                "workers": sum(child.memory_info().rss for child in children) / 2**20,
                "worker_count": len(children)}
    except ImportError:
        def rss(p: int) -> float:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
            return 0.0

        children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        return {"server": rss(pid), "workers": sum(rss(c) for c in children), "worker_count": len(children)}


# ------------------------------------------------------------------------------------------
# Clients
# ------------------------------------------------------------------------------------------


def run_round(host: str, port: int, paths: list[tuple[str, str]], requests: int, clients: int,
              timeout_s: float) -> dict:
    jobs: queue.Queue[tuple[str, str] | None] = queue.Queue()
    for i in range(requests):
        jobs.put(paths[i % len(paths)])
    for _ in range(clients):
        jobs.put(None)
    results: list[tuple[str, float, int | str]] = []
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=timeout_s + 30)
        mine = []
        while (job := jobs.get()) is not None:
            name, path = job
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Accept": "application/sparql-results+json, "
                                                         "text/turtle;q=0.9"})
                response = connection.getresponse()
                response.read()
                outcome: int | str = response.status
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException) as error:
                outcome = f"{type(error).__name__}: {error}"
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=timeout_s + 30)
            mine.append((name, time.perf_counter() - started, outcome))
        connection.close()
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(seconds * 1000 for _, seconds, _ in results)
    errors = [(name, outcome) for name, _, outcome in results if outcome != 200]
    per_query = {}
    for name in sorted({name for name, _ in paths}):
        mine = sorted(seconds * 1000 for n, seconds, _ in results if n == name)
        per_query[name] = {"n": len(mine), "p50_ms": _pct(mine, 50), "p99_ms": _pct(mine, 99)}
    return {
        "requests": len(results),
        "errors": len(errors),
        "error_samples": errors[:10],
        "seconds": elapsed,
        "requests_per_s": len(results) / elapsed if elapsed else 0.0,
        "p50_ms": _pct(latencies, 50),
        "p90_ms": _pct(latencies, 90),
        "p99_ms": _pct(latencies, 99),
        "max_ms": latencies[-1] if latencies else 0.0,
        "mean_ms": statistics.fmean(latencies) if latencies else 0.0,
        "per_query": per_query,
    }


def _pct(sorted_values: list[float], percent: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(percent / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


# ------------------------------------------------------------------------------------------
# Main
# ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, help="store directory (default: build seeds/ into a temporary one)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per round (default 2000)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent client threads (default 20)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, to watch memory between them (default 3)")
    parser.add_argument("--workers", type=int, default=2, help="server query workers (default 2, as serve)")
    parser.add_argument("--timeout", type=float, default=10.0, help="server time limit per query (default 10)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"JSON report (default {OUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="endpoint-load-") as scratch:
        store = args.store
        if store is None:
            from kg.pipeline import build

            build(ROOT / "seeds", Path(scratch), progress=lambda message: None, html=False)
            store = Path(scratch) / "store"
        paths = request_paths()
        process, host, port = start_server(store, args.workers, args.timeout)
        try:
            warm = run_round(host, port, paths, len(paths), 1, args.timeout)
            memory = [{"after": "warm-up", **rss_mib(process.pid)}]
            rounds = []
            for number in range(1, args.rounds + 1):
                rounds.append(run_round(host, port, paths, args.requests, args.clients, args.timeout))
                memory.append({"after": f"round {number}", **rss_mib(process.pid)})
        finally:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()

    report = {
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "store_triples": _triples(store) if args.store else None,
        "named_queries": len(paths),
        "clients": args.clients,
        "requests_per_round": args.requests,
        "server_workers": args.workers,
        "warm_up_errors": warm["errors"],
        "rounds": rounds,
        "memory_mib": memory,
    }
    _print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    total_errors = warm["errors"] + sum(r["errors"] for r in rounds)
    return 1 if total_errors else 0


def _triples(store: Path) -> int | None:
    from kg.store import store_info

    return store_info(store).get("triples")


def _print(report: dict) -> None:
    print(f"{report['machine']}; {report['named_queries']} named queries, {report['clients']} clients, "
          f"{report['requests_per_round']} requests per round, {report['server_workers']} server workers")
    print(f"{'round':>5} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} "
          f"{'max ms':>7}")
    for number, r in enumerate(report["rounds"], start=1):
        print(f"{number:>5} {r['requests']:>8} {r['errors']:>6} {r['requests_per_s']:>7.0f} {r['p50_ms']:>7.1f} "
              f"{r['p90_ms']:>7.1f} {r['p99_ms']:>7.1f} {r['max_ms']:>7.1f}")
        for name, outcome in r["error_samples"]:
            print(f"      error: {name}: {outcome}")
    print(f"{'RSS MiB after':<14} {'server':>7} {'workers':>8}")
    for m in report["memory_mib"]:
        print(f"{m['after']:<14} {m['server']:>7.1f} {m['workers']:>8.1f}  ({m['worker_count']} workers)")
    last = report["rounds"][-1]["per_query"]
    print("per query, last round (p50 / p99 ms): " + ", ".join(
        f"{name} {v['p50_ms']:.0f}/{v['p99_ms']:.0f}" for name, v in last.items()))


if __name__ == "__main__":
    sys.exit(main())
