"""The library API behind ``diplograph build``: articles in, one graph out.

    from kg.pipeline import build
    report = build("seeds", "exports")

Stages run in this declared order; each is a pure function of the previous stage's output
except the first (reading files) and the last (writing files).

Reading and extraction run in worker processes (``jobs``, default all cores; see :mod:`kg.parallel`),
results in input order, so the output does not depend on the number of workers. Extractions are kept in
``out/.cache/`` (:mod:`kg.cache`), keyed by each article's content and the extractor's version: a rebuild
extracts only new and changed articles. Linking identities and writing RDF always run over every
extraction, so an incremental build writes the same bytes as a clean one, and what deleted articles said
is gone. The query store is patched in place rather than rebuilt when few subjects' Turtle blocks changed
(digests of every block are kept in the cache beside the store's source; see :func:`kg.store.patch_store`).

Memory is bounded by the graph, not by the articles: between extraction and the graph each article is held
as the encoded part of its extraction that linking and RDF read, beside its document without text
(:class:`kg.cache.EncodedExtractions`, under 1 KB an article), decoded once for linking and the graph and let
go of as the graph takes it in (:func:`to_graph`); the graph lives on a compact store (:mod:`kg.memgraph`),
validation parts are streamed to the workers a few at a time, and Turtle is written one subject at a time
(:func:`kg.serialize.write_turtle`).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from rdflib import Graph

from kg.cache import CACHE_DIR, EncodedExtractions, ExtractionCache, decode_extraction, document_key, encode_extraction
from kg.collector import BUILD_THRESHOLDS, gc_thresholds, long_lived, thawing
from kg.errors import UserError
from kg.identity import link_persons
from kg.ingest import discover
from kg.lang import supported_languages
from kg.model import ArticleExtraction, Document, in_document_order
from kg.parallel import Workers, extract_payload, read_article
from kg.rdf import GraphBuilder, data_graph
from kg.serialize import BlockDigests, BlockLayout, write_atomic, write_turtle
from kg.validate import validation_digests
from kg.vocab import bind_prefixes

STAGES = ("read", "extract", "link", "to_rdf", "write", "validate", "html", "store")

#: Extract stage: a function from documents to encoded extractions (:func:`kg.cache.encode_extraction`),
#: one per document, in order. The default runs :func:`kg.parallel.extract_payload` on the build's workers;
#: :mod:`kg.distributed` supplies one that runs on a Dask cluster.
Extractor = Callable[[Sequence[Document]], Iterable[bytes]]

#: Extracted entries are written to the cache at least this often (items), so an interrupted build keeps
#: most of its work.
CACHE_COMMIT_EVERY = 256


@dataclass
class BuildReport:
    source: str
    out: str = ""
    articles: int = 0
    built: int = 0
    meetings: int = 0
    triples: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    extracted: int = 0  # articles extracted in this build
    reused: int = 0  # articles whose extraction came from the cache
    stale: int = 0  # cache entries dropped: articles deleted or changed since the last build
    jobs: int = 1
    store_patched: bool = False  # the query store was patched in place rather than rebuilt
    rewritten: int | None = None  # subjects rewritten where graph.ttl was rebuilt in place (kg.incremental)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage

    def summary(self) -> str:
        lines = [
            f"{self.built} of {self.articles} articles built from {self.source}: {self.meetings} meetings, "
            f"{self.triples} triples -> {self.out}",
        ]
        if self.reused or self.stale:
            lines.append(f"extracted {self.extracted} article(s), reused {self.reused} from the cache, "
                         f"dropped {self.stale} stale cache entr{'y' if self.stale == 1 else 'ies'}")
        if self.rewritten is not None:
            lines.append(f"graph.ttl rewritten in place: {self.rewritten} subject(s) new or changed")
        if self.errors:
            lines.append(f"{len(self.errors)} article(s) skipped:")
            lines += [f"  {path}: {reason}" for path, reason in self.errors]
        if self.warnings:
            lines.append(f"{len(self.warnings)} warning(s):")
            lines += [f"  {path}: {reason}" for path, reason in self.warnings]
        return "\n".join(lines)

    @contextmanager
    def timed(self, stage: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - started


def read_documents(
    source: Path, report: BuildReport, workers: Workers | None = None, cache_dir: Path | None = None
) -> list[Document]:
    """Stage "read": every article under ``source``; bad files are reported, never fatal.

    With ``workers``, files are read and analysed (language, dates) in its processes; the result is the
    same list in the same order. With ``cache_dir``, a file the file system says is unchanged since the last
    build (:func:`kg.cache.file_key`) is not read again: its document comes from the cache."""
    documents: list[Document] = []
    seen_hashes: dict[str, str] = {}
    paths = discover(source)
    report.articles = len(paths)
    results = _read_cached(paths, workers, cache_dir, report)
    for path, doc in zip(paths, results, strict=True):
        if isinstance(doc, tuple):
            report.errors.append(doc)
            continue
        for warning in doc.warnings:
            report.warnings.append((str(path), warning))
        if doc.content_hash in seen_hashes:
            report.warnings.append((str(path), f"duplicate of {seen_hashes[doc.content_hash]}; skipped"))
            continue
        seen_hashes[doc.content_hash] = str(path)
        if doc.language not in supported_languages():
            report.warnings.append((str(path), "language not supported or not recognised; no meetings extracted"))
        documents.append(doc)
    return documents


def _read_cached(paths: list, workers: Workers | None, cache_dir: Path | None, report: BuildReport) -> list:
    def read(todo: list) -> Iterable:
        return workers.map(read_article, todo, label="read") if workers else map(read_article, todo)

    if cache_dir is None:
        return list(read(paths))
    from kg.cache import file_key

    with ExtractionCache(cache_dir) as cache:
        report.stale += cache.invalidated  # extractions of another extractor version, dropped on opening
        keys = [file_key(path) for path in paths]
        cached = cache.get_documents(key for key in keys if key is not None)
        found = {i: cached[key] for i, key in enumerate(keys) if key in cached}
        del cached
        missing = [i for i in range(len(paths)) if found.get(i) is None]
        for i, doc in zip(missing, read([paths[i] for i in missing]), strict=True):
            found[i] = doc
            if keys[i] is not None and isinstance(doc, Document):
                cache.put_document(keys[i], doc)
                if cache.pending >= CACHE_COMMIT_EVERY:
                    cache.commit()  # queued documents are pickles beside the documents themselves
        cache.commit()
        cache.prune_documents(key for key in keys if key is not None)
    return [found[i] for i in range(len(paths))]


def extract_all(documents: list[Document], jobs: int | None = 1) -> list[ArticleExtraction]:
    """Stage "extract": one pure call per article (in ``jobs`` processes; ``None``: all cores), each
    extraction reduced to what the next stages read (:meth:`ArticleExtraction.for_graph`; the whole of one is
    :func:`kg.extract.extract`)."""
    with Workers(jobs) as workers:
        return [decode_extraction(payload, doc)
                for doc, payload in zip(documents, workers.map(extract_payload, documents), strict=True)]


def extract_cached(
    documents: list[Document],
    cache_dir: Path | None,
    report: BuildReport,
    workers: Workers,
    extractor: Extractor | None = None,
) -> EncodedExtractions:
    """Stage "extract" with the cache in ``cache_dir`` (None: no cache): cached extractions are reused,
    the others extracted (by ``extractor``, else on ``workers``) and stored; entries of articles no longer
    present are dropped. Counts go to ``report``.

    What is cached and returned of each article is the part of its extraction that linking and RDF read
    (:meth:`ArticleExtraction.for_graph`, whatever an ``extractor`` sent), encoded, beside its document
    without text (:class:`EncodedExtractions`): every article's is held until the graph is built."""
    custom = extractor is not None
    if extractor is None:
        def extractor(docs: Sequence[Document]) -> Iterable[bytes]:
            return workers.map(extract_payload, docs, label="extract")

    def held(doc: Document, payload: bytes) -> bytes:
        # extract_payload already sends the graph part; another extractor may send the whole extraction
        return encode_extraction(decode_extraction(payload, doc).for_graph()) if custom else payload

    if cache_dir is None:
        items = [(doc, held(doc, payload)) for doc, payload in zip(documents, extractor(documents), strict=True)]
        report.extracted = len(items)
        return EncodedExtractions(items)
    with ExtractionCache(cache_dir) as cache:
        keys = [document_key(doc) for doc in documents]
        cached = cache.get_payloads(keys)
        textless = [i for i, key in enumerate(keys) if key not in cached and not documents[i].text]
        if textless:
            _read_again(documents, textless, report, workers)
            keys = [document_key(doc) for doc in documents]
        payloads = {i: cached[key] for i, key in enumerate(keys) if key in cached}
        del cached
        missing = [i for i in range(len(documents)) if i not in payloads]
        report.reused = len(payloads)
        beside = None
        if payloads and not custom and workers.parallel(len(missing)):
            workers.start()  # forked before the thread starts
            beside = _DecodedBeside([(documents[i].without_text(), payloads[i]) for i in sorted(payloads)])
        with long_lived() if beside is not None else nullcontext():
            try:
                for i, payload in zip(missing, extractor([documents[i] for i in missing]), strict=True):
                    payloads[i] = payload = held(documents[i], payload)
                    cache.put(documents[i], payload)
                    if cache.pending >= CACHE_COMMIT_EVERY:
                        cache.commit()
            except BaseException:
                if beside is not None:
                    beside.stop()
                raise
            decoded = beside.result() if beside is not None else None
        cache.commit()
        report.extracted = len(missing)
        report.stale += cache.prune(keys) + cache.invalidated
    return EncodedExtractions(((doc, payloads[i]) for i, doc in enumerate(documents)), decoded,
                              {doc.id: key for doc, key in zip(documents, keys, strict=True)})


class _DecodedBeside:
    """The cached extractions of a build, decoded on a thread while the workers extract the others (the
    calling process only waits for them then): the build decodes every article's before linking, and at a
    small change to a large corpus that was as long as extracting the new articles. The caller pauses the
    collector meanwhile (:func:`kg.collector.long_lived`), as decoding for linking does."""

    def __init__(self, items: list[tuple[Document, bytes]]) -> None:
        self._decoded: dict[str, ArticleExtraction] = {}
        self._stopped = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._decode, args=(items,), name="decode", daemon=True)
        self._thread.start()

    def _decode(self, items: list[tuple[Document, bytes]]) -> None:
        try:
            for doc, payload in items:
                if self._stopped.is_set():
                    return
                self._decoded[doc.id] = decode_extraction(payload, doc)
        except BaseException as error:  # handed to the caller by result()
            self._error = error

    def result(self) -> dict[str, ArticleExtraction]:
        """Each cached extraction decoded, by document id (waits for the thread)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._decoded

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()


def _read_again(documents: list[Document], textless: list[int], report: BuildReport, workers: Workers) -> None:
    """Read again, in place in ``documents``, the files of the ``textless`` documents: they came from the
    read cache, which keeps no text, and their extraction is not cached (a build killed between reading and
    extracting, a damaged entry). One that can no longer be read is reported and left out."""
    gone = set()
    for i, doc in zip(textless, workers.map(read_article, [documents[i].path for i in textless]), strict=True):
        if isinstance(doc, Document):
            documents[i] = doc
        else:
            report.errors.append(doc)
            gone.add(i)
    if gone:
        documents[:] = [doc for i, doc in enumerate(documents) if i not in gone]


@dataclass
class GraphNotes:
    """What :func:`to_graph` can hand on besides the graph, for :mod:`kg.incremental`: the builder (what it
    noted of each subject) and the digests of each owner's inputs."""

    builder: GraphBuilder | None = None
    owners: dict[str, bytes] = field(default_factory=dict)


@thawing
def to_graph(
    extractions: Sequence[ArticleExtraction], with_ontology: bool = True, report: BuildReport | None = None,
    notes: GraphNotes | None = None,
) -> Graph:
    """Stages "link" and "to_rdf": identities across articles, then the graph; ``report`` gets the number of
    meeting reports.

    Each extraction is decoded once (:func:`kg.model.in_document_order`) and held decoded while identities
    are linked, before the graph exists; the graph's pass then lets go of each article's people once they
    are in the graph (the meetings stay, grouped, until written). Decoding was most of these stages' time
    when each pass decoded every article again."""
    with long_lived():
        decoded = list(in_document_order(extractions))
        person_keys, possibly_same = link_persons(decoded)
    if report is not None:
        report.meetings = sum(len(ex.meetings) for ex in decoded)
    builder = None
    if notes is not None:
        from kg.incremental import owner_digests

        notes.owners = owner_digests(decoded, person_keys, possibly_same,
                                     keys=getattr(extractions, "document_keys", None))
        builder = notes.builder = GraphBuilder(person_keys, possibly_same)
    graph = data_graph(_HandedOver(decoded), person_keys, possibly_same, builder)
    if with_ontology:
        from kg.ontology import ontology_graph

        for triple in ontology_graph():
            graph.add(triple)
    bind_prefixes(graph)
    return graph


class _HandedOver:
    """Iterates a list in order (already in document order, as it declares), dropping each item from the list
    as it is handed on: what the consumer does not keep is freed as it goes. Iterable once."""

    ordered_by_document_id = True

    def __init__(self, items: list) -> None:
        self._items = items

    def __iter__(self) -> Iterator:
        items = self._items
        items.reverse()
        while items:
            yield items.pop()


VALIDATED_FILE = "validated.txt"
#: Where the new graph.ttl waits for its validation (a name atomic_writer's clean-up knows, should a build be
#: killed meanwhile).
STAGED_TURTLE = ".graph.ttl.staged.tmp"


def check_shapes(
    graph: Graph, cache_dir: Path | None, workers: Workers | None = None, digests: BlockDigests | None = None
) -> None:
    """Stage "validate": raise :class:`UserError` with the report when ``graph`` breaks the SHACL shapes.

    Nodes are checked in parts on the ``workers`` (:func:`kg.validate.validate_in_parts`); with a
    ``cache_dir``, the fingerprints of the nodes of a conforming graph are kept there, and a node whose
    fragment has not changed since is not checked again. ``digests``: those recorded while the graph's
    Turtle was written (:func:`kg.validate.validation_digests`), which spare rendering it again."""
    from kg.validate import validate_in_parts

    known_file = cache_dir / VALIDATED_FILE if cache_dir is not None else None
    known: set[str] = set()
    if known_file is not None and known_file.is_file():
        known = set(known_file.read_text(encoding="ascii", errors="replace").split())
    result, fingerprints = validate_in_parts(graph, known, workers=workers, digests=digests)
    if not result.conforms:
        raise UserError(f"the graph breaks its SHACL shapes; nothing was written\n{result.text()}")
    if known_file is not None and fingerprints != known:
        write_atomic(known_file, "".join(f"{f}\n" for f in sorted(fingerprints)).encode("ascii"))


@thawing
@gc_thresholds(BUILD_THRESHOLDS)
def build(
    source: str | Path,
    out: str | Path,
    progress: Callable[[str], None] | None = None,
    store: bool = True,
    html: bool = True,
    validate: bool = True,
    *,
    jobs: int | None = None,
    cache: bool = True,
    extractor: Extractor | None = None,
) -> BuildReport:
    """Build ``out/graph.ttl`` from the articles under ``source``, then the query store
    (``out/store/``) and the interactive page (``out/graph.html``) from it.

    The graph is checked against the SHACL shapes first; a graph that breaks them is not
    written (the previous outputs stay) unless ``validate`` is false.

    ``jobs`` worker processes read and extract articles (``None`` or 0: all cores; 1: none). With
    ``cache`` (the default), extractions are kept in ``out/.cache/`` and reused by the next build of the
    same articles with the same extractor; ``cache=False`` neither reads nor writes it. ``extractor``
    replaces the extract stage (see :data:`Extractor`, :mod:`kg.distributed`). ``progress`` receives
    one-line messages (default: stderr, with a progress line on long stages); ``report.timings`` holds
    seconds per stage.
    """
    source, out = Path(source), Path(out)
    report = BuildReport(str(source), str(out / "graph.ttl"))
    say = progress or (lambda message: print(message, file=sys.stderr))
    with Workers(jobs, say=progress, before_fork=_checks_for_workers if validate else None) as workers:
        report.jobs = workers.jobs
        with report.timed("read"):
            documents = read_documents(source, report, workers, out / CACHE_DIR if cache else None)
        say(f"read {len(documents)} article(s)")
        with report.timed("extract"):
            extractions = extract_cached(documents, out / CACHE_DIR if cache else None, report, workers, extractor)
        report.built = len(documents)
        inputs = _inputs_digest(documents, getattr(extractions, "document_keys", None), validate=validate,
                                html=html, store=store)
        del documents  # the extractions hold what is needed of them
        if cache and _outputs_current(out, inputs, report, store=store, html=html):
            say("nothing changed since the last build: its outputs stand")
            return report
        if cache and not html:
            rebuilt = _rebuild_in_place(extractions, out, report, workers, validate=validate, store=store)
            if rebuilt is not None:
                _record_build(out, inputs, report, html=html, graph_sha256=rebuilt)
                return report
        notes = GraphNotes() if cache else None
        with report.timed("link+to_rdf"):
            graph = to_graph(extractions, report=report, notes=notes)
        report.triples = len(graph)
        del extractions
        # Written beside graph.ttl first: validation reads the digests taken while writing, and graph.ttl is
        # replaced only by a graph that conforms.
        staged = out / STAGED_TURTLE
        digests = (validation_digests() if validate else None) or BlockDigests(frozenset())
        patchable = store and cache
        store_source = ""  # the SHA-256 of the graph.ttl the store holds, where the cache indexes that graph
        if patchable:
            store_source, digests.previous = _read_store_index(out / CACHE_DIR, out / STORE_DIR)
        layout = BlockLayout() if notes is not None else None
        with report.timed("write"):
            write_turtle(graph, staged, digests, layout)
        try:
            if validate:
                with report.timed("validate"):
                    check_shapes(graph, out / CACHE_DIR if cache else None, workers, digests)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        os.replace(staged, out / "graph.ttl")
        if notes is not None and layout is not None:
            with report.timed("write"):
                _keep_graph_state(graph, layout, digests, notes, out, report, validate)
        del notes, layout
        patch = None
        if patchable:
            with report.timed("store"):
                patch = _store_patch(digests, out / CACHE_DIR, store_source)
        del digests
    if html:
        from kg.html import write_graph_html

        with report.timed("html"):
            write_graph_html(graph, out / "graph.html")
    del graph
    if store and not (patch is not None and patch.expected_sha256):
        _give_back_freed_memory()  # the store loads graph.ttl; its loader should not share memory with the graph
    graph_sha256 = _update_store(out, patch, report) if store else None
    if cache:
        _record_build(out, inputs, report, html=html, graph_sha256=graph_sha256)
    return report


def _checks_for_workers() -> None:
    """The shapes' plan of local checks (the shapes and the ontology parsed and read: ~0.04 s in a fresh
    process; pyshacl itself is imported by whatever process checks a part first), worked out before the pool
    forks: this process needs it for a rebuild's checks or to plan a full build's, and the workers check parts
    with it."""
    from kg.validate import local_checks

    local_checks()


def _update_store(out: Path, patch: _StorePatch | None, report: BuildReport, graph_sha256: str | None = None) -> str:
    """Stage "store": patch the query store with ``patch`` where it holds the graph the patch starts from,
    else build it from graph.ttl (whose SHA-256 is ``graph_sha256``, where known); keep the index of the new
    graph's blocks. Returns the SHA-256 of the graph.ttl the store now holds."""
    from kg.store import build_store, patch_store

    with report.timed("store"):
        try:
            meta = None
            if patch is not None and patch.expected_sha256:
                # the store's index goes first: a store killed while patched is never patched again
                (out / CACHE_DIR / STORE_INDEX.format(sha256=patch.expected_sha256)).unlink(missing_ok=True)
                meta = patch_store(out / STORE_DIR, out / "graph.ttl", expected_sha256=patch.expected_sha256,
                                   replaced=patch.replaced, blocks=patch.blocks, triples=report.triples,
                                   previous=patch.previous, source_sha256=graph_sha256)
            report.store_patched = meta is not None
            if meta is None:
                meta = build_store(out / "graph.ttl", out / STORE_DIR)
            if patch is not None:
                _keep_store_index(out / CACHE_DIR, patch.index, meta["source_sha256"])
            return meta["source_sha256"]
        finally:
            if patch is not None:
                patch.index.unlink(missing_ok=True)  # kept under its name by now, unless the store failed


def _keep_graph_state(graph: Graph, layout: BlockLayout, digests: BlockDigests, notes: GraphNotes, out: Path,
                      report: BuildReport, validated: bool) -> None:
    """Record what the next build needs to rewrite only what changed (:func:`kg.incremental.record_state`)."""
    from kg.cache import file_key
    from kg.incremental import record_state, save_state
    from kg.store import file_sha256

    state = record_state(graph, layout, digests.own, notes.builder, notes.owners, file_sha256(out / "graph.ttl"),
                         report.meetings, validated)
    state.graph_file = file_key(out / "graph.ttl")
    save_state(out / CACHE_DIR, state)


def _rebuild_in_place(extractions, out: Path, report: BuildReport, workers: Workers, *, validate: bool,
                      store: bool) -> str | None:
    """Rewrite graph.ttl from the previous one with the subjects of what changed since
    (:func:`kg.incremental.rebuild`), and patch the store with them; returns the new graph.ttl's SHA-256,
    None where the previous build left no usable state or too much changed (nothing was done: a full build
    follows)."""
    from kg.cache import file_key
    from kg.incremental import forget_state, load_state, rebuild, save_state
    from kg.store import file_sha256, store_info

    cache_dir = out / CACHE_DIR
    state = load_state(cache_dir)
    target = out / "graph.ttl"
    # the state describes graph.ttl where the file is the one written with it (by what the file system says
    # of it, as of an article: kg.cache.file_key), or where it hashes the same (a copied output folder)
    if state is None or not target.is_file() or (
            file_key(target) != state.graph_file and file_sha256(target) != state.graph_sha256):
        return None
    # no full collection first: it would walk the state just loaded (a rebuild's peak was no higher without)
    with report.timed("link+to_rdf"), long_lived(collect=False):
        decoded = list(in_document_order(extractions))
        person_keys, possibly_same = link_persons(decoded)
    staged = out / STAGED_TURTLE
    try:
        with report.timed("write"):
            rebuilt = rebuild(decoded, person_keys, possibly_same, state, target, staged, workers, validate,
                              getattr(extractions, "document_keys", None))
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    if rebuilt is None:
        return None
    del decoded
    report.meetings, report.triples, report.rewritten = rebuilt.meetings, rebuilt.triples, rebuilt.rendered
    forget_state(cache_dir)  # it describes the graph.ttl about to be replaced
    os.replace(staged, target)
    rebuilt.state.graph_file = file_key(target)
    if not store:
        save_state(cache_dir, rebuilt.state)
        return rebuilt.graph_sha256
    # the state is saved on a thread while the store is patched (Oxigraph lets go of the interpreter)
    with ThreadPoolExecutor(max_workers=1) as beside:
        saved = beside.submit(save_state, cache_dir, rebuilt.state)
        patch = _state_patch(rebuilt, cache_dir, store_info(out / STORE_DIR).get("source_sha256") or "", state)
        graph_sha256 = _update_store(out, patch, report, rebuilt.graph_sha256)
        saved.result()
    return graph_sha256


def _state_patch(rebuilt, cache_dir: Path, store_source: str, previous) -> _StorePatch:
    """The store's patch from a rebuild in place: the subjects it replaced or removed, where the store holds
    the graph it started from (``previous``, a :class:`kg.incremental.GraphState`); and the new index."""
    state = rebuilt.state
    fixed = ((key, digest) for key, _, _, digest in state.fixed if digest is not None)
    name = _write_store_index(cache_dir, chain(fixed, ((iri, entry.digest) for iri, entry in state.entries.items())))
    replaced = rebuilt.changed + rebuilt.removed
    if store_source != previous.graph_sha256 or len(replaced) > PATCH_SHARE * (len(state.entries) + len(state.fixed)):
        return _StorePatch("", [], [], name)
    return _StorePatch(store_source, replaced, rebuilt.changed_blocks, name, rebuilt.previous_blocks)


#: In the cache: what the last complete build was made from, and what it wrote (see :func:`_outputs_current`).
BUILD_RECORD = "last-build.json"


def _inputs_digest(documents: Sequence[Document], keys: dict[str, str] | None = None, **options: bool) -> str:
    """A digest of everything a build's outputs follow from: each article (its name and what ingestion read
    of it, in order: its :func:`kg.cache.document_key`, from ``keys`` by id where there), the extractor's
    version (code and data), the ontology and shapes, and the options."""
    import hashlib

    from kg.cache import extractor_version
    from kg.validate import shapes_version

    digest = hashlib.sha256(f"{extractor_version()}\n{shapes_version()}\n{sorted(options.items())}\n".encode())
    keys = keys or {}
    for doc in documents:
        digest.update(f"{doc.id}\x1f{keys.get(doc.id) or document_key(doc)}\n".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _outputs_current(out: Path, inputs: str, report: BuildReport, *, store: bool, html: bool) -> bool:
    """Whether the outputs in ``out`` are those of a complete build from the same ``inputs``, untouched since
    (graph.ttl, graph.html and the store's source by SHA-256): then ``report`` gets that build's counts and
    the build is done. A rebuild of an unchanged corpus costs reading it."""
    import json

    from kg.store import file_sha256, store_info

    try:
        record = json.loads((out / CACHE_DIR / BUILD_RECORD).read_text(encoding="utf-8"))
        if record.get("inputs") != inputs or not (out / "graph.ttl").is_file():
            return False
        if store and store_info(out / STORE_DIR).get("source_sha256") != record["graph_sha256"]:
            return False
        if html and (not (out / "graph.html").is_file() or file_sha256(out / "graph.html") != record["html_sha256"]):
            return False
        if file_sha256(out / "graph.ttl") != record["graph_sha256"]:
            return False
        report.meetings, report.triples = int(record["meetings"]), int(record["triples"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    return True


def _record_build(out: Path, inputs: str, report: BuildReport, *, html: bool, graph_sha256: str | None) -> None:
    """Record what :func:`_outputs_current` checks next time; ``graph_sha256``: graph.ttl's, where the store
    stage has already read it (else it is read here)."""
    import json

    from kg.store import file_sha256

    record = {"inputs": inputs, "graph_sha256": graph_sha256 or file_sha256(out / "graph.ttl"),
              "html_sha256": file_sha256(out / "graph.html") if html else None,
              "meetings": report.meetings, "triples": report.triples}
    write_atomic(out / CACHE_DIR / BUILD_RECORD, (json.dumps(record, indent=2) + "\n").encode("utf-8"))


STORE_DIR = "store"
#: In the cache: for the graph a store was built from, each subject's IRI with the digest of its Turtle block
#: (named after the SHA-256 of that graph.ttl), so that the next build can patch the store.
STORE_INDEX = "store-index-{sha256}.tsv"
#: A store is rebuilt rather than patched when more than this share of its subjects changed.
PATCH_SHARE = 0.2


@dataclass
class _StorePatch:
    """What a build hands from writing graph.ttl to patching the store: the subjects to replace, their new
    blocks, the store's expected source (empty: build it), the new index, written aside, and where known,
    the blocks the replaced subjects had (:func:`kg.store.patch_store`)."""

    expected_sha256: str
    replaced: list[str]
    blocks: list[str]
    index: Path
    previous: dict[str, str] | None = None


def _read_store_index(cache_dir: Path, store_dir: Path) -> tuple[str, dict[str, int] | None]:
    """The SHA-256 of the graph.ttl the store at ``store_dir`` holds, and IRI -> block digest of that graph
    from the cache; ``("", None)`` where unknown."""
    from kg.store import store_info

    sha = store_info(store_dir).get("source_sha256")
    path = cache_dir / STORE_INDEX.format(sha256=sha)
    if not sha or not path.is_file():
        return "", None
    index: dict[str, int] = {}
    try:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                digest, iri = line.rstrip("\n").split(" ", 1)
                index[iri] = int(digest, 16)
    except (OSError, ValueError, UnicodeDecodeError):
        return "", None
    return sha, index


def _store_patch(digests: BlockDigests, cache_dir: Path, store_source: str) -> _StorePatch:
    """The index of the graph just written (to a file aside in ``cache_dir``) and, where the store (holding
    the graph.ttl whose SHA-256 is ``store_source``) can be patched to it, the patch: subjects changed or gone
    since ``digests.previous``, and the new blocks."""
    previous = digests.previous

    def indexed() -> Iterator[tuple[str, int]]:
        for subject, digest in digests.own.items():
            iri = str(subject)
            if previous is not None:
                previous.pop(iri, None)
            yield iri, digest

    name = _write_store_index(cache_dir, indexed())
    usable = previous is not None and not digests.overflow
    if not usable:
        return _StorePatch("", [], [], name)
    replaced = digests.changed_subjects + sorted(previous)  # what is left of previous: subjects now gone
    if len(replaced) > PATCH_SHARE * max(1, len(digests.own)):
        return _StorePatch("", [], [], name)
    return _StorePatch(store_source, replaced, digests.changed, name)


def _write_store_index(cache_dir: Path, subjects: Iterable[tuple[str, int]]) -> Path:
    """Write the store index of a graph (each subject's IRI with its block digest, :data:`STORE_INDEX`) to a
    file aside in ``cache_dir``, named after the graph once the store holds it (:func:`_keep_store_index`)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".store-index.", suffix=".tmp", dir=cache_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as index:
        for iri, digest in subjects:
            index.write(f"{digest:016x} {iri}\n")
    return Path(name)


def _keep_store_index(cache_dir: Path, written: Path, sha256: str) -> None:
    """Name the index written for the new graph.ttl after it, and drop the indexes of earlier graphs."""
    kept = cache_dir / STORE_INDEX.format(sha256=sha256)
    os.replace(written, kept)
    for other in cache_dir.glob(STORE_INDEX.format(sha256="*")):
        if other != kept:
            other.unlink(missing_ok=True)


def _give_back_freed_memory() -> None:
    """Return what the graph and the stages before it freed to the system, before the store's loader runs:
    its threads allocate from their own malloc arenas and cannot reuse what the main arena holds free.
    A full collection, then glibc's ``malloc_trim`` where the C library has one (elsewhere, nothing)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass
