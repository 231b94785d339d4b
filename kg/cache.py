"""The extraction cache behind incremental builds: one entry per article, in ``OUT/.cache/``.

Extraction is the slow stage of a build and a pure function of one :class:`~kg.model.Document`, so its
result can be kept and reused as long as neither the article nor the extractor changed:

- an entry is keyed by the article's ``content_hash`` together with everything else ingestion read from
  it (language, title, dates, body offset: :func:`document_key`); the file name and path are *not* part of
  the key, so renaming or moving an article reuses its entry;
- every entry carries the **extractor version** (:func:`extractor_version`: a hash of the package's
  ``kg/*.py`` and ``kg/data/**`` files, the Python version and :data:`CACHE_FORMAT`); opening the cache with
  another version drops every entry, so a code or lexicon change re-extracts everything;
- entries are pickles of the plain dataclasses of :mod:`kg.model` (the extraction without its document,
  which is re-attached from the freshly read article; compressed with zlib), stored with a SHA-256 of
  the payload, which is checked on every read: a damaged entry is a miss, never an error;
- the store is one SQLite database (``extractions.sqlite``, write-ahead log), written in transactions, so
  a crash or Ctrl-C mid-build leaves the entries committed so far intact and never a half-written one. A
  database that cannot be opened or read is deleted and rebuilt from scratch.

>>> import tempfile
>>> from kg.ingest import parse_document
>>> from kg.extract import extract
>>> doc = parse_document("a", "a.txt", "Minister Jan Novak met Minister Eva Horvat in Vienna on 3 May 2024.")
>>> with tempfile.TemporaryDirectory() as folder, ExtractionCache(folder) as cache:
...     cache.get(doc) is None
...     cache.put(doc, encode_extraction(extract(doc)))
...     cache.commit()
...     cache.get(doc).document is doc
True
True
"""

from __future__ import annotations

import hashlib
import pickle
import sqlite3
import sys
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from functools import cache as _memo
from pathlib import Path
from typing import overload

from kg.model import ArticleExtraction, Document

#: Bumped whenever the layout of a cache entry changes.
CACHE_FORMAT = 3
#: The cache folder inside a build's output folder.
CACHE_DIR = ".cache"
DB_NAME = "extractions.sqlite"
_PACKAGE = Path(__file__).resolve().parent
_DOC_FIELDS_NOT_IN_KEY = ("id", "path", "text")  # text is covered by content_hash


@_memo
def extractor_version() -> str:
    """A hash of everything extraction depends on: the package's ``kg/*.py`` and ``kg/data/**`` files,
    the Python version (pickles) and the cache format. Computed once per process."""
    return _version_of(_PACKAGE)


def _version_of(package: Path) -> str:
    digest = hashlib.sha256(f"diplograph-cache {CACHE_FORMAT} py{sys.version_info[:2]}".encode())
    files = sorted(package.glob("*.py")) + sorted(p for p in (package / "data").rglob("*") if p.is_file())
    for path in files:
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def document_key(doc: Document) -> str:
    """The cache key of a document: its content hash and every other field ingestion derived from the
    text (language, title, dates, ...), but not its file name or path.

    >>> from kg.ingest import parse_document
    >>> a = parse_document("a", "x/a.txt", "Jan Novak met Eva Horvat.")
    >>> b = parse_document("b", "y/b.txt", "Jan Novak met Eva Horvat.")
    >>> document_key(a) == document_key(b) != document_key(parse_document("a", "x/a.txt", "Jan Novak met."))
    True
    """
    parts = [doc.content_hash]
    parts += [f"{name}={getattr(doc, name)!r}" for name in _KEY_FIELDS]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


#: Keys looked up by one query (SQLite allows 999 parameters in older builds).
_KEYS_A_QUERY = 500
#: From this many keys a lookup reads the whole table once (100k keys: 0.3 s against 0.6-0.85 s by queries).
_SCAN_FROM = 5_000

_KEY_FIELDS = tuple(f.name for f in fields(Document) if f.name not in _DOC_FIELDS_NOT_IN_KEY)


def file_key(path: str | Path) -> str | None:
    """The key of what reading the file at ``path`` gives, from the file system's record of it (path, size,
    inode, modification and change times, as ``git`` and ``make`` judge a file unchanged), or None for
    anything but a regular file: those are read afresh (and refused with a reason).

    Any write to the file changes its change time, even one that restores the modification time."""
    import os
    import stat

    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    record = f"{path}\x1f{info.st_size}\x1f{info.st_ino}\x1f{info.st_mtime_ns}\x1f{info.st_ctime_ns}"
    return hashlib.sha256(record.encode("utf-8", "surrogateescape")).hexdigest()


def encode_extraction(extraction: ArticleExtraction) -> bytes:
    """A compressed pickle of an extraction without its document (the cache entry's payload)."""
    state = {f.name: getattr(extraction, f.name) for f in fields(extraction) if f.name != "document"}
    return zlib.compress(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL), 1)


def decode_extraction(payload: bytes, doc: Document) -> ArticleExtraction:
    """The extraction in ``payload`` (from :func:`encode_extraction`) with ``doc`` as its document."""
    state = pickle.loads(zlib.decompress(payload))
    return ArticleExtraction(document=doc, **state)


class EncodedExtractions(Sequence[ArticleExtraction]):
    """Every article's extraction, in document-id order, held encoded (:func:`encode_extraction`, under a
    kilobyte each) beside its document without text, and decoded on each access.

    A build holds all of them from extraction until its graph is built. Decoded, they cost about 6.5 KB an
    article (1.1 GB at 170k articles); encoded, a seventh of that. :func:`kg.pipeline.to_graph` decodes
    each once, before the graph exists, and lets go of each as the graph takes it in. Payloads must
    be of :meth:`ArticleExtraction.for_graph` extractions: the quotes are in them, the texts are not kept.
    """

    ordered_by_document_id = True

    def __init__(self, items: Iterable[tuple[Document, bytes]], decoded: dict[str, ArticleExtraction] | None = None,
                 document_keys: dict[str, str] | None = None) -> None:
        self._items = sorted(((doc.without_text(), payload) for doc, payload in items), key=lambda i: i[0].id)
        # extractions decoded already (by document id), each handed on by the first iteration, not held twice
        self._decoded = decoded if decoded is not None else {}
        #: each document's :func:`document_key` by its id, where the caller had them (a rebuild asks for them)
        self.document_keys = document_keys if document_keys is not None else {}

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> ArticleExtraction: ...

    @overload
    def __getitem__(self, index: slice) -> list[ArticleExtraction]: ...

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        doc, payload = self._items[index]
        found = self._decoded.get(doc.id)
        return found if found is not None else decode_extraction(payload, doc)

    def __iter__(self) -> Iterator[ArticleExtraction]:
        for doc, payload in self._items:
            found = self._decoded.pop(doc.id, None)
            yield found if found is not None else decode_extraction(payload, doc)


class ExtractionCache:
    """Cached extractions of one output folder (``ExtractionCache(out / ".cache")``).

    ``get`` reads an entry, ``put`` queues one, ``commit`` writes the queued ones in one transaction,
    ``prune(keep)`` deletes every entry whose key is not in ``keep``. Use it as a context manager or call
    ``close`` (which commits).
    """

    def __init__(self, directory: str | Path, version: str | None = None) -> None:
        self.directory = Path(directory)
        self.version = version or extractor_version()
        self.path = self.directory / DB_NAME
        self.invalidated = 0  # entries dropped on opening because they were written by another version
        self._pending: list[tuple[str, str, bytes, bytes]] = []
        self._pending_documents: list[tuple[str, str, bytes, bytes]] = []
        self._db = self._open()

    # --- opening -----------------------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            return self._connect()
        except sqlite3.DatabaseError:  # damaged beyond what SQLite recovers itself: start afresh
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            return self._connect()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            for table in ("extraction", "document"):
                db.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} ("
                    " key TEXT PRIMARY KEY, version TEXT NOT NULL, checksum BLOB NOT NULL, payload BLOB NOT NULL)"
                )
            db.execute("BEGIN IMMEDIATE")
            self.invalidated = db.execute(
                "DELETE FROM extraction WHERE version != ?", (self.version,)
            ).rowcount
            db.execute("DELETE FROM document WHERE version != ?", (self.version,))
            db.execute("COMMIT")
            if self.invalidated:
                db.execute("VACUUM")
        except BaseException:
            db.close()
            raise
        return db

    # --- entries -----------------------------------------------------------------------------------------

    def get(self, doc: Document) -> ArticleExtraction | None:
        """The cached extraction of ``doc`` (with ``doc`` attached), or None."""
        payload = self.get_payload(document_key(doc))
        if payload is None:
            return None
        try:
            return decode_extraction(payload, doc)
        except Exception:  # an entry written by code that no longer matches it: a miss
            return None

    def get_payload(self, key: str, table: str = "extraction") -> bytes | None:
        try:
            row = self._db.execute(
                f"SELECT checksum, payload FROM {table} WHERE key = ? AND version = ?", (key, self.version)
            ).fetchone()
        except sqlite3.DatabaseError:
            return None
        if row is None or hashlib.sha256(row[1]).digest() != row[0]:
            return None
        return row[1]

    def get_payloads(self, keys: Iterable[str], table: str = "extraction") -> dict[str, bytes]:
        """The payloads of those of ``keys`` that have an entry (checked as :meth:`get_payload` checks one)."""
        return dict(self._payloads(keys, table))

    def _payloads(self, keys: Iterable[str], table: str) -> Iterator[tuple[str, bytes]]:
        """Each of ``keys`` that has an entry, with its payload, as they are read: a few hundred keys a query
        (one query per key was a second at 100k articles), or from :data:`_SCAN_FROM` keys on, the whole
        table read once (a rebuild wants nearly all of it; where the table cannot be read through, the keys
        not found yet are asked for as before)."""
        keys = list(keys)
        if len(keys) >= _SCAN_FROM:
            wanted = set(keys)
            try:
                for key, checksum, payload in self._db.execute(
                        f"SELECT key, checksum, payload FROM {table} WHERE version = ?", (self.version,)):
                    if key in wanted and hashlib.sha256(payload).digest() == checksum:
                        wanted.discard(key)
                        yield key, payload
                return
            except sqlite3.DatabaseError:
                keys = [key for key in keys if key in wanted]
        for start in range(0, len(keys), _KEYS_A_QUERY):
            chunk = keys[start:start + _KEYS_A_QUERY]
            try:
                rows = self._db.execute(
                    f"SELECT key, checksum, payload FROM {table} WHERE version = ? AND key IN "
                    f"({', '.join('?' * len(chunk))})", (self.version, *chunk)
                ).fetchall()
            except sqlite3.DatabaseError:
                continue
            for key, checksum, payload in rows:
                if hashlib.sha256(payload).digest() == checksum:
                    yield key, payload

    def put(self, doc: Document, payload: bytes) -> None:
        """Queue ``payload`` (from :func:`encode_extraction`) as the entry of ``doc``; see :meth:`commit`."""
        self._pending.append((document_key(doc), self.version, hashlib.sha256(payload).digest(), payload))

    @property
    def pending(self) -> int:
        return len(self._pending) + len(self._pending_documents)

    def get_documents(self, keys: Iterable[str]) -> dict[str, Document]:
        """The :class:`Document` read by an earlier build (without its text) from the file with each of these
        :func:`file_key` ``keys`` that has one."""
        found: dict[str, Document] = {}
        for key, payload in self._payloads(keys, "document"):
            try:
                doc = pickle.loads(payload)
            except Exception:  # written by code that no longer matches it: a miss
                continue
            if isinstance(doc, Document):
                found[key] = doc
        return found

    def put_document(self, key: str, doc: Document) -> None:
        """Queue ``doc`` as what the file with :func:`file_key` ``key`` reads as, without its text; see
        :meth:`commit`. A build needs an article's text only to extract it, and one whose document is cached
        has its extraction cached too but where a build was killed in between or an entry was damaged (then
        :func:`kg.pipeline.extract_cached` reads the file again): the text was most of the time spent reading
        a large cached corpus (decompressing it), and of its memory. Not compressed: a document without text
        is metadata (~300 bytes) that zlib shrinks by a tenth, and a rebuild reads every article's."""
        payload = pickle.dumps(doc.without_text(), protocol=pickle.HIGHEST_PROTOCOL)
        self._pending_documents.append((key, self.version, hashlib.sha256(payload).digest(), payload))

    def prune_documents(self, keep: Iterable[str]) -> int:
        """Delete every read document whose file key is not in ``keep``; returns how many were deleted."""
        stale = {key for (key,) in self._db.execute("SELECT key FROM document")} - set(keep)
        if stale:
            with self._transaction():
                self._db.executemany("DELETE FROM document WHERE key = ?", ((key,) for key in stale))
        return len(stale)

    def commit(self) -> None:
        """Write the queued entries in one transaction (all or none of them)."""
        if not self._pending and not self._pending_documents:
            return
        with self._transaction():
            for table, rows in (("extraction", self._pending), ("document", self._pending_documents)):
                self._db.executemany(
                    f"INSERT OR REPLACE INTO {table} (key, version, checksum, payload) VALUES (?, ?, ?, ?)", rows
                )
        self._pending.clear()
        self._pending_documents.clear()

    def keys(self) -> set[str]:
        return {key for (key,) in self._db.execute("SELECT key FROM extraction")}

    def prune(self, keep: Iterable[str]) -> int:
        """Delete every entry whose key is not in ``keep``; returns how many were deleted."""
        stale = self.keys() - set(keep)
        if stale:
            with self._transaction():
                self._db.executemany("DELETE FROM extraction WHERE key = ?", ((key,) for key in stale))
        return len(stale)

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM extraction").fetchone()[0]

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- closing -----------------------------------------------------------------------------------------

    def close(self) -> None:
        if self._db is None:
            return
        try:
            self.commit()
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self._db.close()
            self._db = None

    def __enter__(self) -> ExtractionCache:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        # Queued entries are complete extractions even when the build failed later: keep them.
        self.close()
