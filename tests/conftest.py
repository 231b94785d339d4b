"""Shared fixtures: the seed articles built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def seed_build(tmp_path_factory):
    """``diplograph build seeds`` into a temporary folder; returns (out_dir, report)."""
    from kg.pipeline import build

    out = tmp_path_factory.mktemp("seed-build")
    report = build(SEEDS, out, progress=lambda message: None)
    return out, report


@pytest.fixture(scope="session")
def seed_graph(seed_build):
    from rdflib import Graph

    out, _ = seed_build
    graph = Graph()
    graph.parse(out / "graph.ttl", format="turtle")
    return graph
