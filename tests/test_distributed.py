"""Extraction on a Dask cluster (LocalCluster of two worker processes on loopback) writes the same graph bytes
as a local build; workers running other code are refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed")

from kg.distributed import WorkerVersionError, dask_client, dask_extractor  # noqa: E402
from kg.pipeline import build  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

EXTRA = {
    "talks.txt": """---
title: Talks in Vienna
date: 2024-03-05
---
Minister of Foreign Affairs of Austria Johann Berger met with Minister of Foreign Affairs of Japan Hiroshi Tanabe
in Vienna on 5 March 2024. The sides discussed trade and economic cooperation and energy security.
""",
    "call.txt": """---
title: Телефонный разговор
date: 2023-10-11
---
11 октября 2023 года состоялся телефонный разговор министра иностранных дел Сербии Милана Петровича с министром
иностранных дел Казахстана Арманом Сеитовым. Стороны обсудили вопросы транспорта и логистики.
""",
}


@pytest.fixture(scope="module")
def client():
    with dask_client("local", n_workers=2) as connected:
        connected.wait_for_workers(2, timeout=60)
        yield connected


@pytest.fixture()
def corpus(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    for seed in (ROOT / "seeds").glob("*.txt"):
        shutil.copy(seed, folder / seed.name)
    for name, text in EXTRA.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _build(source, out, **options):
    return build(source, out, progress=lambda m: None, store=False, html=False, **options)


def test_dask_build_writes_the_bytes_of_a_local_build(client, corpus, tmp_path):
    assert len(client.scheduler_info(n_workers=-1)["workers"]) == 2
    assert all(address.startswith("tcp://127.0.0.1:") for address in client.scheduler_info(n_workers=-1)["workers"])
    local = _build(corpus, tmp_path / "local", jobs=1, cache=False)
    on_dask = _build(corpus, tmp_path / "dask", jobs=1, cache=False, extractor=dask_extractor(client, batch_size=2))
    assert on_dask.extracted == local.extracted == 7
    assert (tmp_path / "dask" / "graph.ttl").read_bytes() == (tmp_path / "local" / "graph.ttl").read_bytes()


def test_dask_build_uses_and_fills_the_cache(client, corpus, tmp_path):
    out = tmp_path / "out"
    first = _build(corpus, out, jobs=1, extractor=dask_extractor(client))
    assert (first.extracted, first.reused) == (7, 0)
    (corpus / "talks.txt").unlink()
    second = _build(corpus, out, jobs=1, extractor=dask_extractor(client))
    assert (second.extracted, second.reused, second.stale) == (0, 6, 1)
    assert (out / "graph.ttl").read_bytes() == (_build(corpus, tmp_path / "clean", jobs=1, cache=False) and
                                                (tmp_path / "clean" / "graph.ttl").read_bytes())


def test_workers_with_another_extractor_version_are_refused(client, corpus, tmp_path, monkeypatch):
    monkeypatch.setattr("kg.distributed.extractor_version", lambda: "not-what-the-workers-run")
    with pytest.raises(WorkerVersionError, match="another version of the extractor"):
        _build(corpus, tmp_path / "out", jobs=1, cache=False, extractor=dask_extractor(client))
    assert not (tmp_path / "out" / "graph.ttl").exists()


def test_build_command_with_a_local_dask_cluster(corpus, tmp_path, capsys):
    from kg.cli import main

    out = tmp_path / "cli"
    assert main(["build", str(corpus), "--out", str(out), "--no-store", "--no-html", "--jobs", "2",
                 "--dask", "local"]) == 0
    local = _build(corpus, tmp_path / "local", jobs=1, cache=False)
    assert local.built == 7
    assert (out / "graph.ttl").read_bytes() == (tmp_path / "local" / "graph.ttl").read_bytes()
