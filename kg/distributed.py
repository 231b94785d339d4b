"""Extraction on a Dask cluster: the same pure function per article, on as many machines as the cluster has.

Extraction is the only stage whose cost grows with the corpus and that needs no view of other articles, so
it is the stage that leaves the machine. Everything else stays with the build: reading the folder (local
worker processes), the cache (only articles not in ``out/.cache`` are sent), linking identities and writing
RDF (over all extractions, in document order). The graph is therefore byte-for-byte the one a local build
writes.

    from kg.distributed import build_on_dask
    build_on_dask("corpus", "exports", scheduler="tcp://scheduler:8786")   # an existing cluster
    build_on_dask("corpus", "exports", scheduler="local", jobs=2)          # a LocalCluster on loopback

or ``diplograph build corpus --dask tcp://scheduler:8786``. Workers need the same version of this package
(``pip install diplograph`` in their environment): every batch comes back with the extractor version of
the worker that ran it, and a build refuses results from other code (:class:`WorkerVersionError`).

Articles travel in batches (:data:`BATCH_SIZE`) of :class:`~kg.model.Document` and come back as encoded
cache entries (:func:`kg.cache.encode_extraction`); the number of batches in flight is bounded
(:data:`MAX_IN_FLIGHT` per worker), so a large corpus never sits on the scheduler at once.

Needs ``dask[distributed]`` (imported only when used).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kg.cache import extractor_version
from kg.errors import UserError
from kg.model import Document
from kg.parallel import Progress, extract_batch, resolve_jobs

BATCH_SIZE = 16
MAX_IN_FLIGHT = 4


class WorkerVersionError(UserError):
    """A Dask worker runs a different version of the extractor than the build."""


def _distributed():
    try:
        import distributed
    except ImportError:
        raise UserError("Dask is not installed: pip install 'dask[distributed]'") from None
    return distributed


@contextmanager
def dask_client(scheduler: str | None = "local", n_workers: int = 2) -> Iterator[Any]:
    """A ``distributed.Client``: connected to ``scheduler`` (an address), or, for ``"local"``/None, to a
    LocalCluster of ``n_workers`` single-threaded worker processes on 127.0.0.1 (its HTTP endpoints on a
    free loopback port), closed on exit."""
    distributed = _distributed()
    if scheduler and scheduler != "local":
        client = distributed.Client(scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    cluster = distributed.LocalCluster(
        n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", silence_logs=40,
    )
    try:
        client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def dask_extractor(client: Any, batch_size: int = BATCH_SIZE,
                   say: Callable[[str], None] | None = None) -> Callable[[Sequence[Document]], Iterator[bytes]]:
    """An extract stage for :func:`kg.pipeline.build` (``extractor=``) that runs on ``client``'s cluster.

    Yields the encoded extractions in document order."""
    version = extractor_version()

    def extract_on_cluster(docs: Sequence[Document]) -> Iterator[bytes]:
        batches = [list(docs[i : i + batch_size]) for i in range(0, len(docs), batch_size)]
        if not batches:
            return
        workers = max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))
        limit = max(2, MAX_IN_FLIGHT * workers)
        progress = Progress("extract", len(docs), say)
        pending: deque = deque()
        queued = iter(batches)
        try:
            for batch in queued:  # the first `limit` batches
                pending.append(client.submit(extract_batch, batch, pure=False))
                if len(pending) >= limit:
                    break
            while pending:
                worker_version, payloads = pending.popleft().result()
                if worker_version != version:
                    raise WorkerVersionError(
                        f"a Dask worker runs another version of the extractor ({worker_version[:12]}, "
                        f"this build {version[:12]}): install the same diplograph on every worker"
                    )
                following = next(queued, None)
                if following is not None:
                    pending.append(client.submit(extract_batch, following, pure=False))
                yield from payloads
                progress.advance(len(payloads))
        finally:
            for future in pending:
                future.cancel()
            progress.close()

    return extract_on_cluster


def build_on_dask(source: str | Path, out: str | Path, scheduler: str | None = "local", *,
                  jobs: int | None = None, progress: Callable[[str], None] | None = None,
                  batch_size: int = BATCH_SIZE, **options: Any):
    """:func:`kg.pipeline.build` with extraction on Dask: an existing cluster at ``scheduler``, or a
    LocalCluster of ``jobs`` workers (``"local"``). ``options`` go to ``build`` (``store``, ``html``,
    ``validate``, ``cache``). Returns the :class:`~kg.pipeline.BuildReport`."""
    from kg.pipeline import build

    n_workers = resolve_jobs(jobs)
    with dask_client(scheduler, n_workers=n_workers) as client:
        extractor = dask_extractor(client, batch_size=batch_size, say=progress)
        return build(source, out, progress=progress, jobs=jobs, extractor=extractor, **options)
