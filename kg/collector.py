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

import functools
import gc
from collections.abc import Callable, Iterator
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


_froze_heap = False


@contextmanager
def long_lived(collect: bool = True) -> Iterator[None]:
    """Run the body with the cyclic collector off (reference counting frees as ever), then move everything
    alive out of its sight (``gc.freeze``) until :func:`thaw`. For stages that build a large heap of acyclic
    objects meant to live to the end of the build — decoding every extraction of a large corpus, linking its
    people — where each full collection walks all of it again to free nothing: at 100k articles, that was
    half the time spent decoding, and turned on again, the collector paid it in the next stage. With
    ``collect``, a full collection goes first, while the heap is small, so that no garbage is frozen (where the
    heap is not small — a rebuild holds its graph state by then, ~1.5 s of collection at 170k articles — the
    caller may leave it out). Where the caller's process has frozen objects of its own, only the pause.

    >>> with long_lived():
    ...     gc.isenabled()
    False
    >>> gc.isenabled(), gc.get_freeze_count() > 0
    (True, True)
    >>> thaw(); gc.get_freeze_count()
    0
    """
    global _froze_heap
    enabled = gc.isenabled()
    ours = _froze_heap or gc.get_freeze_count() == 0
    if ours and collect:
        gc.collect()  # what earlier stages left in cycles is freed now, not frozen with the rest until the end
    gc.disable()
    try:
        yield
    finally:
        if ours:
            gc.freeze()
            _froze_heap = True
        if enabled:
            gc.enable()


def thaw() -> None:
    """Give back to the collector what :func:`long_lived` froze (at the end of a build)."""
    global _froze_heap
    if _froze_heap:
        gc.unfreeze()
        _froze_heap = False


def thawing(function: Callable) -> Callable:
    """Decorate a function that uses :func:`long_lived`: :func:`thaw` when it returns or raises."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            thaw()

    return wrapper
