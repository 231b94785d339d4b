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
