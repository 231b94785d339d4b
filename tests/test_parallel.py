"""Parallel reading and extraction: the same bytes whatever the number of workers, results in input order,
a progress line, and the benchmark corpus generator (whose articles these tests build)."""

from __future__ import annotations

import importlib.util
import io
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import kg.parallel
from kg.errors import UserError
from kg.parallel import Progress, Workers, resolve_jobs
from kg.pipeline import build, extract_all, read_documents

ROOT = Path(__file__).resolve().parent.parent


def _corpus_module():
    spec = importlib.util.spec_from_file_location("diplograph_bench_corpus", ROOT / "benchmarks" / "corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("generated")
    _corpus_module().generate(48, folder, seed=3)
    for seed in (ROOT / "seeds").glob("*.txt"):
        (folder / seed.name).write_bytes(seed.read_bytes())
    (folder / "empty.txt").write_bytes(b"")  # a bad file is reported the same way by every worker count
    return folder


def _slow_square(x: int) -> int:
    time.sleep(0.002 * (x % 5))
    return x * x


def test_jobs_1_and_2_write_identical_bytes(corpus, tmp_path, monkeypatch):
    pools = []

    class CountingPool(kg.parallel.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(kwargs.get("max_workers"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(kg.parallel, "ProcessPoolExecutor", CountingPool)
    one = build(corpus, tmp_path / "one", progress=lambda m: None, store=False, html=False, jobs=1)
    assert pools == []
    two = build(corpus, tmp_path / "two", progress=lambda m: None, store=False, html=False, jobs=2)
    assert pools == [2]  # one pool for both stages
    assert (one.jobs, two.jobs) == (1, 2)
    assert (tmp_path / "one" / "graph.ttl").read_bytes() == (tmp_path / "two" / "graph.ttl").read_bytes()
    assert (one.built, one.meetings, one.triples, one.errors, one.warnings) == (
        two.built, two.meetings, two.triples, two.errors, two.warnings)
    assert two.extracted == two.built == 53 and two.errors and "empty" in two.errors[0][1]
    assert set(two.timings) >= {"read", "extract", "link+to_rdf", "validate", "write"}


def test_parallel_rebuild_from_the_cache_is_identical(corpus, tmp_path):
    out = tmp_path / "out"
    build(corpus, out, progress=lambda m: None, store=False, html=False, jobs=2, cache=False)
    clean = (out / "graph.ttl").read_bytes()
    build(corpus, out, progress=lambda m: None, store=False, html=False, jobs=2)
    report = build(corpus, out, progress=lambda m: None, store=False, html=False, jobs=1)
    assert (report.extracted, report.reused) == (0, 53)
    assert (out / "graph.ttl").read_bytes() == clean


def test_extract_all_and_read_documents_keep_their_api(corpus):
    from kg.pipeline import BuildReport

    report = BuildReport(str(corpus))
    documents = read_documents(corpus, report)
    assert len(documents) == 53 and report.articles == 54
    serial = extract_all(documents[:20])
    parallel = extract_all(documents[:20], jobs=2)
    assert [len(e.meetings) for e in serial] == [len(e.meetings) for e in parallel]
    assert [e.document for e in parallel] == documents[:20]


def test_workers_keep_input_order():
    items = list(range(200))
    with Workers(jobs=2, min_items=1) as workers:
        assert list(workers.map(_slow_square, items)) == [x * x for x in items]
        assert list(workers.map(_slow_square, [3])) == [9]


def test_small_inputs_stay_in_process(monkeypatch):
    def no_pool(*args, **kwargs):
        raise AssertionError("no pool for a handful of items")

    monkeypatch.setattr(kg.parallel, "ProcessPoolExecutor", no_pool)
    with Workers(jobs=4) as workers:
        assert list(workers.map(_slow_square, range(5))) == [0, 1, 4, 9, 16]


def test_what_the_workers_need_is_loaded_once_before_the_pool_forks():
    """``before_fork`` runs in the calling process just before the pool starts, once; the workers inherit what
    it loaded. Without a pool (one job, or too few items) it is not called."""
    calls = []
    with Workers(jobs=2, min_items=1, before_fork=lambda: calls.append(Workers)) as workers:
        assert calls == [] and not workers.started
        assert list(workers.map(_module_loaded, ["kg.parallel", "kg.errors"])) == [True, True]
        assert calls == [Workers] and workers.started
        assert list(workers.map(_slow_square, [2, 3])) == [4, 9] and calls == [Workers]
    for jobs, items in ((1, range(40)), (2, range(3))):
        with Workers(jobs=jobs, before_fork=lambda: calls.append("again")) as workers:
            assert len(list(workers.map(_slow_square, items))) == len(items)
            assert not workers.started
    assert calls == [Workers]


def _module_loaded(name):
    return name in sys.modules


def test_jobs_resolution():
    assert resolve_jobs(None) == resolve_jobs(0) == kg.parallel.available_cores() >= 1
    assert resolve_jobs(2) == 2
    with pytest.raises(UserError):
        resolve_jobs(-1)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_redraws_one_line_on_a_terminal(monkeypatch):
    stream = _Terminal()
    monkeypatch.setattr(Progress, "REDRAW_EVERY_S", 0.0)
    progress = Progress("extract", 3, stream=stream)
    for _ in range(3):
        progress.advance()
    progress.close()
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1
    assert "extract" in text and "2/3" in text and "3/3 100%" in text and "/s" in text


def test_progress_lines_go_to_the_callback_and_short_stages_stay_quiet(monkeypatch):
    lines = []
    quiet = Progress("read", 10, say=lines.append)
    for _ in range(10):
        quiet.advance()
    quiet.close()
    assert lines == []
    monkeypatch.setattr(Progress, "LINE_EVERY_S", 0.0)
    noisy = Progress("read", 4, say=lines.append)
    for _ in range(4):
        noisy.advance()
    noisy.close()
    assert lines[-1].startswith("read") and "4/4 100%" in lines[-1] and "ETA" in lines[0]


def test_generated_corpus_is_deterministic_and_extracts_meetings_in_every_language(corpus, tmp_path):
    module = _corpus_module()
    again = tmp_path / "again"
    module.generate(48, again, seed=3)
    first = sorted(p for p in corpus.glob("0*_*.txt") if "_" in p.stem and p.stem[:6].isdigit())
    assert [p.read_bytes() for p in first] == [(again / p.name).read_bytes() for p in first]
    sizes = [len(p.read_bytes()) for p in first]
    assert min(sizes) >= 2000 and max(sizes) <= 4600
    from kg.pipeline import BuildReport

    documents = read_documents(again, BuildReport(str(again)))
    extractions = extract_all(documents, jobs=2)
    languages = Counter(d.language for d in documents)
    meetings = Counter(e.document.language for e in extractions for _ in e.meetings)
    assert set(languages) == {"en", "ru", "mk", "ar"}
    for lang in languages:
        assert meetings[lang] >= languages[lang], (lang, meetings)  # at least one meeting per article on average
    # file names carry the language they were written in
    assert all(d.id.endswith("_" + d.language) for d in documents)


def test_stream_keeps_order_and_never_runs_far_ahead_of_the_pool():
    produced = []

    def items():
        for x in range(40):
            produced.append(x)
            yield x

    with Workers(jobs=2, min_items=1) as workers:
        results = workers.stream(_slow_square, items(), ahead=3)
        assert next(results) == 0
        assert len(produced) <= 3  # the producer waits for the pool
        assert list(results) == [x * x for x in range(1, 40)]
        assert list(workers.stream(_slow_square, iter([]))) == []
