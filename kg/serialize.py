"""Deterministic, atomic serialisation of graphs.

The same graph always gives the same bytes, in the layout of rdflib's ``longturtle`` serializer: subjects
sorted by IRI, ``a`` first and then predicates by IRI, one object per line, with the project's prefixes.
Subjects described with blank nodes (OWL class expressions, lists of the ontology) go through rdflib's
``longturtle`` with ``canon=True``; everything else (all the data: it has no blank nodes) is written by
:func:`_write_plain`, which does the same thing about fifty times faster. Files are replaced atomically
(written beside the target, fsynced, then renamed) so a crash never leaves a half-written export behind.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import defaultdict
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from kg.vocab import PREFIXES, bind_prefixes


def turtle_bytes(graph: Graph) -> bytes:
    """Serialise ``graph`` as canonical long-form Turtle.

    >>> from rdflib import Graph, URIRef, Literal
    >>> g = Graph(); _ = g.add((URIRef("urn:b"), URIRef("urn:p"), Literal("x")))
    >>> _ = g.add((URIRef("urn:a"), URIRef("urn:p"), Literal('say "hi"', lang="en")))
    >>> print(turtle_bytes(g).decode())
    <urn:a>
        <urn:p> "say \\"hi\\""@en ;
    .
    <BLANKLINE>
    <urn:b>
        <urn:p> "x" ;
    .
    <BLANKLINE>
    """
    with_blank: set = set()
    for s, _, o in graph:
        if isinstance(s, BNode) or isinstance(o, BNode):
            with_blank.add(s)
    nested = Graph()
    bind_prefixes(nested)
    plain: dict[URIRef, list[tuple]] = defaultdict(list)
    for s, p, o in graph:
        if s in with_blank or isinstance(s, BNode):
            nested.add((s, p, o))
        else:
            plain[s].append((p, o))
    used: set[str] = set()
    cache: dict[str, str] = {}
    blocks = _plain_blocks(plain, used, cache)
    if len(nested):
        text = nested.serialize(format="longturtle", canon=True)
        lines = text.splitlines(keepends=True)
        while lines and (lines[0].startswith("PREFIX ") or not lines[0].strip()):
            line = lines.pop(0)
            if line.startswith("PREFIX "):
                used.add(line[len("PREFIX "):].split(":", 1)[0])
        by_text = {_iri(str(s), set(), cache): str(s) for s in with_blank if not isinstance(s, BNode)}
        for block in "".join(lines).split("\n.\n"):
            block = block.strip("\n")
            if block:
                first = block.split("\n", 1)[0]
                blocks.append((by_text.get(first, first), block + "\n.\n\n"))
    blocks.sort(key=lambda item: item[0])
    prefixes = "".join(f"PREFIX {name}: <{PREFIXES[name]}>\n" for name in sorted(used))
    text = (prefixes + "\n" if prefixes else "") + "".join(block for _, block in blocks)
    return text.rstrip("\n").encode("utf-8") + b"\n" if text.strip() else b""


_NAMESPACES = sorted(((str(ns), name) for name, ns in PREFIXES.items()), key=lambda item: -len(item[0]))
_LOCAL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:[.][A-Za-z0-9_-]+)*|[0-9]+[A-Za-z0-9_-]*")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_TO_ESCAPE = re.compile(r'[\\"\n\r\t\b\f]')


def _iri(term: str, used: set[str], cache: dict[str, str]) -> str:
    text = cache.get(term)
    if text is None:
        text = f"<{_escape_iri(term)}>"
        for namespace, name in _NAMESPACES:
            if term.startswith(namespace) and _LOCAL_NAME.fullmatch(term, len(namespace)):
                text = f"{name}:{term[len(namespace):]}"
                break
        cache[term] = text
    if text[0] != "<":
        used.add(text.split(":", 1)[0])
    return text


def _escape_iri(term: str) -> str:
    return "".join(ch if ch > " " and ch not in '<>"{}|^`\\' else f"\\u{ord(ch):04X}" for ch in term)


def _literal(term: Literal, used: set[str], cache: dict[str, str]) -> str:
    lexical = _TO_ESCAPE.sub(lambda m: _ESCAPES[m.group()], str(term))
    if term.language:
        return f'"{lexical}"@{term.language}'
    if term.datatype is None or term.datatype == XSD.string:
        return f'"{lexical}"'
    return f'"{lexical}"^^{_iri(str(term.datatype), used, cache)}'


def _plain_blocks(subjects: dict[URIRef, list[tuple]], used: set[str], cache: dict[str, str]) -> list[tuple[str, str]]:
    """(subject IRI, Turtle block) for subjects without blank nodes, laid out as ``longturtle`` does."""

    def term(node) -> str:
        return _literal(node, used, cache) if isinstance(node, Literal) else _iri(str(node), used, cache)

    blocks = []
    for subject, pairs in subjects.items():
        by_predicate: dict[URIRef, list] = defaultdict(list)
        for p, o in pairs:
            by_predicate[p].append(o)
        out = [term(subject) + "\n"]
        for predicate in sorted(by_predicate, key=lambda p: (p != RDF.type, str(p))):
            name = "a" if predicate == RDF.type else term(predicate)
            objects = sorted({term(o) for o in by_predicate[predicate]})
            if len(objects) == 1:
                out.append(f"    {name} {objects[0]} ;\n")
            else:
                out.append(f"    {name}\n" + " ,\n".join(f"        {o}" for o in objects) + " ;\n")
        out.append(".\n\n")
        blocks.append((str(subject), "".join(out)))
    return blocks


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
