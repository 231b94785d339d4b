"""The collector's thresholds during a build (kg.collector): the build's own under the build's thresholds,
validation under CPython's defaults wherever it runs, the caller's restored afterwards."""

from __future__ import annotations

import gc
from pathlib import Path

import pyshacl

import kg.pipeline as pipeline
from kg.collector import BUILD_THRESHOLDS, DEFAULT_THRESHOLDS, gc_thresholds

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def test_a_build_runs_under_its_thresholds_validation_under_the_defaults_and_the_callers_come_back(
    tmp_path, monkeypatch
):
    seen: dict[str, set] = {"graph": set(), "validation": set()}
    real_graph, real_validate = pipeline.to_graph, pyshacl.validate

    def recording_graph(*args, **kwargs):
        seen["graph"].add(gc.get_threshold())
        return real_graph(*args, **kwargs)

    def recording_validate(*args, **kwargs):
        seen["validation"].add(gc.get_threshold())
        return real_validate(*args, **kwargs)

    monkeypatch.setattr(pipeline, "to_graph", recording_graph)
    monkeypatch.setattr(pyshacl, "validate", recording_validate)
    callers = (900, 11, 12)
    with gc_thresholds(callers):
        pipeline.build(SEEDS, tmp_path, progress=lambda m: None, html=False, store=False, jobs=1)
        assert gc.get_threshold() == callers
    assert seen == {"graph": {BUILD_THRESHOLDS}, "validation": {DEFAULT_THRESHOLDS}}


def test_thresholds_come_back_when_the_body_fails():
    before = gc.get_threshold()
    try:
        with gc_thresholds((12_345, 10, 10)):
            raise KeyError("the build failed")
    except KeyError:
        pass
    assert gc.get_threshold() == before


def _frozen_after_extracting(doc) -> tuple[int, int]:
    """In a worker: objects frozen before and after extracting FREEZE_AFTER articles."""
    from kg.parallel import FREEZE_AFTER, extract_payload

    before = gc.get_freeze_count()
    for _ in range(FREEZE_AFTER):
        extract_payload(doc)
    return before, gc.get_freeze_count()


def _frozen_after_checking(part) -> tuple[int, int]:
    from kg.validate import _check_part

    before = gc.get_freeze_count()
    _check_part(part)
    return before, gc.get_freeze_count()


def test_workers_freeze_what_they_loaded_and_the_callers_process_never_does():
    from rdflib import Literal, URIRef
    from rdflib.namespace import RDF, RDFS

    from kg.ingest import read_document
    from kg.parallel import Workers, extract_payload
    from kg.vocab import DG

    doc = read_document(sorted(path for path in SEEDS.iterdir() if path.is_file())[0])
    article = URIRef("https://w3id.org/diplograph/id/article/a1")
    part = [(article, [(article, RDF.type, DG.Article), (article, RDFS.label, Literal("a"))])]
    with Workers(2, min_items=1) as workers:
        frozen = list(workers.map(_frozen_after_extracting, [doc, doc]))
    assert all(after > 0 for _, after in frozen) and any(after > before for before, after in frozen)
    with Workers(2, min_items=1) as workers:
        frozen = list(workers.map(_frozen_after_checking, [part, part]))
    assert all(after > 0 for _, after in frozen) and any(before == 0 for before, _ in frozen)
    ours = gc.get_freeze_count()
    for _ in range(70):
        extract_payload(doc)
    assert gc.get_freeze_count() == ours  # not a worker: nothing frozen here
