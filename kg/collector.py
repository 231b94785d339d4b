"""How often Python's cyclic garbage collector runs during a build.

A build allocates millions of objects that live until its end (decoded extractions, the graph's terms and
indexes) and makes almost no reference cycles. Under CPython's default thresholds (700, 10, 10) the
collector walks that growing heap again and again: a third of the time spent turning 10,000 extractions
into a graph went to collections that freed nothing. A build therefore runs under
:data:`BUILD_THRESHOLDS` (``@gc_thresholds(BUILD_THRESHOLDS)`` on :func:`kg.pipeline.build`; forked workers
inherit them, which measured neither faster nor larger for reading and extraction); reference counting frees
everything as before, and cycles are still collected, only less often.

Validation is the exception: each part is checked on an rdflib graph of its own, which holds reference
cycles, and under the build's thresholds a process kept ~110 MB more of them for ~10% less time. It runs
under :data:`DEFAULT_THRESHOLDS` wherever it runs (:func:`kg.validate.validate_in_parts`).

A worker process spends its collections walking what it keeps for good: the language data, lexicons and
shapes it loaded for its first articles or its first part. :func:`freeze_once` moves those out of the
collector's sight (``gc.freeze``) once they are loaded: a fifth less CPU for validating parts, 8% for
extracting articles, the same memory. Only in a build's workers (:func:`worker_started`, their pool's
initializer): a caller's own process is never frozen.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: (generation 0, generation 1, generation 2) thresholds while a build runs; see :func:`gc.set_threshold`.
BUILD_THRESHOLDS = (50_000, 20, 100)
#: CPython's own thresholds.
DEFAULT_THRESHOLDS = (700, 10, 10)


@contextmanager
def gc_thresholds(thresholds: tuple[int, int, int]) -> Iterator[None]:
    """Run the body (or each call of a function it decorates) with the collector's ``thresholds``, then
    restore the caller's.

    >>> before = gc.get_threshold()
    >>> with gc_thresholds((10_000, 10, 10)):
    ...     gc.get_threshold()
    (10000, 10, 10)
    >>> gc.get_threshold() == before
    True
    """
    previous = gc.get_threshold()
    gc.set_threshold(*thresholds)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


_in_worker = False
_frozen: set[str] = set()
_calls: dict[str, int] = {}


def worker_started() -> None:
    """A build's worker pool's initializer: this process is a worker (see :func:`freeze_once`), with nothing
    counted or frozen yet (a forked worker inherits its parent's counts)."""
    global _in_worker
    _in_worker = True
    _frozen.clear()
    _calls.clear()


def freeze_once(moment: str) -> bool:
    """In a worker process, the first time ``moment`` is named: collect, then freeze every object alive
    (``gc.freeze``), so that later collections skip them. They are still freed when nothing refers to them;
    only a cycle among them would stay. Elsewhere, or named before, nothing. Returns whether it froze.

    >>> freeze_once("test")  # not a worker
    False
    """
    if not _in_worker or moment in _frozen:
        return False
    _frozen.add(moment)
    gc.collect()
    gc.freeze()
    return True


def freeze_after(moment: str, calls: int) -> bool:
    """Count one call at ``moment``; at the ``calls``-th, :func:`freeze_once` (what a worker loads on its
    first articles is loaded by then)."""
    count = _calls[moment] = _calls.get(moment, 0) + 1
    return count == calls and freeze_once(moment)
