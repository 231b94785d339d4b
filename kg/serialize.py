"""Deterministic, atomic serialisation of graphs.

The same graph always gives the same bytes: triples are written by rdflib's
``longturtle`` serializer (sorted subjects and predicates) with a fixed prefix set, and
files are replaced atomically (written beside the target, fsynced, then renamed) so a
crash never leaves a half-written export behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from rdflib import Graph

from kg.vocab import bind_prefixes


def turtle_bytes(graph: Graph) -> bytes:
    """Serialise ``graph`` as canonical long-form Turtle.

    >>> from rdflib import Graph, URIRef, Literal
    >>> g = Graph(); _ = g.add((URIRef("urn:b"), URIRef("urn:p"), Literal("x")))
    >>> _ = g.add((URIRef("urn:a"), URIRef("urn:p"), Literal("y")))
    >>> turtle_bytes(g) == turtle_bytes(g)
    True
    """
    copy = Graph()
    bind_prefixes(copy)
    for triple in graph:
        copy.add(triple)
    data = copy.serialize(format="longturtle", canon=True)
    return data.encode("utf-8") if isinstance(data, str) else data


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically: readers see the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_temporaries(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_name, 0o666 & ~umask)  # a normal file for its readers, not mkstemp's 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


STALE_AFTER_S = 3600


def _remove_abandoned_temporaries(path: Path) -> None:
    """Delete temporary files a killed writer left beside ``path`` (older than an hour, so a concurrent
    writer's file is never touched)."""
    import time

    now = time.time()
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if now - leftover.stat().st_mtime > STALE_AFTER_S:
                leftover.unlink()
        except OSError:
            continue
