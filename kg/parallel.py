"""Reading and extraction across processes, in input order, with a progress line.

Both stages are pure functions of one article, so they are mapped over a pool of worker processes and the
results are taken back **in input order**: the output of a build does not depend on the number of workers
(``--jobs``), nor on which worker handled which article.

    with Workers(jobs=4) as workers:
        documents = workers.map(read_article, paths, label="read")

A :class:`Workers` starts its pool on the first ``map`` that is worth it (at least :data:`MIN_PARALLEL_ITEMS`
items and more than one job), ``submit`` or ``start``, and keeps it for the next stages, so the language
data each worker loads on first use is loaded once per worker and build. On Linux the pool forks (cheap,
the parent's imports are shared) unless other threads are running, where forking is unsafe; then it spawns.

:class:`Progress` is the progress line: redrawn in place on a terminal, a line every
:data:`Progress.LINE_EVERY_S` seconds otherwise (log files), or handed to a callback.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, TextIO

from kg.collector import freeze_after, worker_started
from kg.errors import ArticleError, UserError
from kg.model import Document

#: Fewer items than this are handled in the calling process (a pool costs more than it saves).
MIN_PARALLEL_ITEMS = 16


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def resolve_jobs(jobs: int | None) -> int:
    """``None`` or ``0``: all cores; a positive number: that many worker processes.

    >>> resolve_jobs(3)
    3
    >>> resolve_jobs(None) == available_cores()
    True
    """
    if jobs is None or jobs == 0:
        return available_cores()
    if jobs < 0:
        raise UserError(f"--jobs must be 0 (all cores) or a positive number, not {jobs}")
    return jobs


# --- the work done in worker processes (top-level functions, so they pickle by name) ---------------------


def read_article(path: str | Path) -> Document | tuple[str, str]:
    """Read one article: its :class:`Document`, or ``(path, reason)`` when it cannot be read."""
    from kg.ingest import read_document

    try:
        return read_document(Path(path))
    except ArticleError as error:
        return (error.path, error.reason)


def extract_payload(doc: Document) -> bytes:
    """Extract one article and encode the part of it the graph is built from
    (:meth:`~kg.model.ArticleExtraction.for_graph`) as a cache entry (:func:`kg.cache.encode_extraction`).

    Workers send back encoded entries rather than objects: the parent stores them in the cache as they
    are and decodes each once. Sentences and mentions are not sent: a fifth of the bytes to pickle, move,
    store and decode.
    """
    from kg.cache import encode_extraction
    from kg.extract import extract

    try:
        payload = encode_extraction(extract(doc).for_graph())
    except Exception as error:
        raise RuntimeError(f"{doc.path}: extraction failed: {type(error).__name__}: {error}") from error
    freeze_after("extract", FREEZE_AFTER)
    return payload


#: A worker freezes what it holds after this many articles (:func:`kg.collector.freeze_after`): the data of
#: the languages it met is loaded by then.
FREEZE_AFTER = 64


def extract_batch(docs: Sequence[Document]) -> tuple[str, list[bytes]]:
    """:func:`extract_payload` over a batch, with the extractor version of the process that ran it
    (used by :mod:`kg.distributed` to refuse workers running other code)."""
    from kg.cache import extractor_version

    return extractor_version(), [extract_payload(doc) for doc in docs]


# --- progress -----------------------------------------------------------------------------------------------


class Progress:
    """``extract  1,234/10,000  12%  61.7/s  ETA 2m22s`` for a stage of known length.

    ``say`` is a callback for lines (the build's ``progress``); without one the line goes to ``stream``
    (stderr), redrawn in place when it is a terminal.
    """

    REDRAW_EVERY_S = 0.2
    LINE_EVERY_S = 10.0

    def __init__(self, label: str, total: int, say: Callable[[str], None] | None = None,
                 stream: TextIO | None = None) -> None:
        self.label, self.total, self.done = label, total, 0
        self.say = say
        self.stream = stream or sys.stderr
        self.in_place = say is None and _is_terminal(self.stream)
        self.started = self._last = time.perf_counter()
        self._drawn = False

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.perf_counter()
        interval = self.REDRAW_EVERY_S if self.in_place else self.LINE_EVERY_S
        if now - self._last >= interval and self.done < self.total:
            self._last = now
            self._emit(self.line())

    def line(self) -> str:
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        rate = self.done / elapsed
        width = len(f"{self.total:,}")
        text = f"{self.label:<8} {self.done:>{width},}/{self.total:,}"
        if self.total:
            text += f" {100 * self.done // self.total:3d}%"
        text += f"  {rate:,.1f}/s"
        if self.done < self.total and rate > 0:
            text += f"  ETA {_duration((self.total - self.done) / rate)}"
        else:
            text += f"  in {_duration(elapsed)}"
        return text

    def close(self) -> None:
        """The final line (only where a line was shown before, so short stages stay quiet)."""
        if self._drawn or (not self.in_place and time.perf_counter() - self.started >= self.LINE_EVERY_S):
            self._emit(self.line())
        if self.in_place and self._drawn:
            self.stream.write("\n")
            self.stream.flush()

    def _emit(self, text: str) -> None:
        if self.in_place:
            self.stream.write("\r" + text + "\x1b[K")
            self.stream.flush()
            self._drawn = True
        elif self.say is not None:
            self.say(text)
        else:
            print(text, file=self.stream, flush=True)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


# --- the pool -----------------------------------------------------------------------------------------------


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


class Workers:
    """A lazily started pool of ``jobs`` processes for ordered maps; a context manager."""

    def __init__(self, jobs: int | None = None, say: Callable[[str], None] | None = None,
                 min_items: int | None = None, before_fork: Callable[[], object] | None = None) -> None:
        self.jobs = resolve_jobs(jobs)
        self.say = say
        self.min_items = MIN_PARALLEL_ITEMS if min_items is None else min_items
        #: Called in this process just before the pool starts: what every worker would load on first use and
        #: this process loads too, loaded once and inherited by the forked workers.
        self.before_fork = before_fork
        self._executor: Executor | None = None

    def parallel(self, count: int) -> bool:
        """Whether :meth:`map` over ``count`` items runs in the pool (else in the calling process)."""
        return self.jobs > 1 and count >= max(2, self.min_items)

    @property
    def started(self) -> bool:
        """Whether the pool's processes exist."""
        return self._executor is not None

    def start(self) -> None:
        """Start the pool's processes now, not on the first map: a caller about to start a thread of its own
        (forking beside a running thread can deadlock the children)."""
        if self.jobs > 1:
            self._pool().submit(int).result()

    def map(self, func: Callable[[Any], Any], items: Sequence[Any], label: str = "") -> Iterator[Any]:
        """``func`` over ``items``, results in input order, with a progress line when ``label`` is given."""
        progress = Progress(label, len(items), self.say) if label else None
        if not self.parallel(len(items)):
            results: Iterable[Any] = map(func, items)
        else:
            # small chunks keep the workers evenly busy; large enough to make queue traffic negligible
            chunksize = max(1, min(32, len(items) // (self.jobs * 16)))
            results = self._pool().map(func, items, chunksize=chunksize)
        try:
            for result in results:
                yield result
                if progress:
                    progress.advance()
        finally:
            if progress:
                progress.close()

    def submit(self, func: Callable[[Any], Any], item: Any) -> Future:
        """``func(item)`` on a worker, started now (in the calling process, done before this returns, where
        there is one job)."""
        if self.jobs > 1:
            return self._pool().submit(func, item)
        done: Future = Future()
        try:
            done.set_result(func(item))
        except Exception as error:
            done.set_exception(error)
        return done

    def stream(self, func: Callable[[Any], Any], items: Iterable[Any], ahead: int | None = None) -> Iterator[Any]:
        """``func`` over ``items`` (any iterable, read once), results in input order. Items go to the pool
        as they are produced, so producing them overlaps the work on them, but at most ``ahead`` (default:
        twice the workers) wait or run at once: the producer is not let run ahead of the pool, so a large
        stream of items (validation parts: fragments of the whole graph) is never all in memory."""
        if self.jobs == 1:
            return map(func, items)
        return _bounded_map(self._pool(), func, items, max(1, ahead or 2 * self.jobs))

    def _pool(self) -> Executor:
        """The pool, started on first use; its processes know they are workers (:mod:`kg.collector`)."""
        if self._executor is None:
            if self.before_fork is not None:
                self.before_fork()
            self._executor = ProcessPoolExecutor(max_workers=self.jobs, mp_context=_context(),
                                                 initializer=worker_started)
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _bounded_map(executor: Executor, func: Callable[[Any], Any], items: Iterable[Any], ahead: int) -> Iterator[Any]:
    pending: deque = deque()
    try:
        for item in items:
            pending.append(executor.submit(func, item))
            if len(pending) >= ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
