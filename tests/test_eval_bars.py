"""The extraction bars of the dev gold (../shared/eval): the scorer on a fresh build of the seeds."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import ROOT, SHARED

pytestmark = pytest.mark.skipif(
    not (SHARED / "eval" / "score.py").exists(), reason="the shared scorer and gold are not beside the repo"
)


@pytest.fixture(scope="module")
def scores(seed_build, tmp_path_factory):
    out, _ = seed_build
    target = tmp_path_factory.mktemp("scores") / "scores.json"
    subprocess.run(
        [sys.executable, str(SHARED / "eval" / "score.py"), "--gold", str(SHARED / "eval" / "gold"),
         "--graph", str(out / "graph.ttl"), "--query", str(ROOT / "queries" / "meetings.rq"), "--json", str(target)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(target.read_text(encoding="utf-8"))


def test_meetings_f1(scores):
    assert scores["meetings"]["f1"] >= 0.90


def test_participants(scores):
    assert scores["participants"]["precision"] >= 0.90
    assert scores["participants"]["recall"] >= 0.90
    assert scores["participants"]["canonical_label_rate"] >= 0.90
    assert scores["participants"]["type_accuracy"] >= 0.95


def test_dates(scores):
    assert scores["dates"]["accuracy"] >= 0.90
    assert scores["dates"]["invented"] == 0


def test_topics(scores):
    assert scores["topics"]["f1"] >= 0.75


def test_entities_unified_without_false_merges(scores):
    assert scores["entities"]["unified"] == scores["entities"]["cross_article"]
    assert scores["entities"]["false_merges"] == 0
