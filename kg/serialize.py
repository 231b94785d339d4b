"""Deterministic, atomic serialisation of graphs.

The same graph always gives the same bytes, in the layout of rdflib's ``longturtle`` serializer: subjects
sorted by IRI, ``a`` first and then predicates by IRI, one object per line, with the project's prefixes.
Subjects described with blank nodes (OWL class expressions, lists of the ontology) go through rdflib's
``longturtle`` with ``canon=True``; everything else (all the data: it has no blank nodes) is written by
:func:`plain_block`, which does the same thing about fifty times faster. :func:`write_turtle` streams the
blocks to a file one subject at a time, so a large graph's text is never held in memory. Files are replaced
atomically (written beside the target, fsynced, then renamed) so a crash never leaves a half-written export
behind.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from kg.memgraph import objects_grouper
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
    parts: list[str] = []
    used = _write_body(graph, parts.append)
    return (prefix_lines(used) + "".join(parts)).encode("utf-8") if parts else b""


@dataclass
class BlockDigests:
    """Short digests of each IRI subject's Turtle block, taken while the blocks are written, so that later
    stages can tell what changed since an earlier build without rendering the graph a second time.

    ``own[s]``: the digest of ``s``'s whole block. ``about[s]``: the digest of ``s``'s IRI with its lines
    for the predicates in ``about_predicates`` only (what a node's checks read of the nodes it points to:
    their types, their schemes); validation fingerprints are made of these. 64-bit BLAKE2b digests, as ints.

    With ``previous`` (IRI -> block digest of an earlier build's graph, the one the query store holds), the
    blocks of subjects that are new or changed since are kept in ``changed`` (their IRIs in
    ``changed_subjects``), for the store to be patched instead of rebuilt; past ``change_limit`` characters,
    or when a subject described with blank nodes changed, nothing more is kept and ``overflow`` is set."""

    about_predicates: frozenset
    own: dict = field(default_factory=dict)
    about: dict = field(default_factory=dict)
    previous: dict[str, int] | None = None
    change_limit: int = 64 << 20
    changed: list[str] = field(default_factory=list)
    changed_subjects: list[str] = field(default_factory=list)
    overflow: bool = False
    _changed_size: int = 0

    def record(self, subject, block: str, about_lines: str, with_blank_nodes: bool = False) -> None:
        own = self.own[subject] = digest64(block)
        self.about[subject] = digest64(f"{subject}\n{about_lines}")
        if self.previous is None or self.overflow or self.previous.get(str(subject)) == own:
            return
        self._changed_size += len(block)
        if with_blank_nodes or self._changed_size > self.change_limit:
            self.overflow = True
            self.changed.clear()
            self.changed_subjects.clear()
            return
        self.changed.append(block)
        self.changed_subjects.append(str(subject))


def digest64(text: str) -> int:
    """A 64-bit digest of ``text`` that is the same in every process (unlike ``hash``).

    >>> digest64("a") == digest64("a") != digest64("b")
    True
    """
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def block_digests(graph: Graph, about_predicates: frozenset) -> BlockDigests:
    """The :class:`BlockDigests` of ``graph`` that :func:`write_turtle` would record, writing nothing."""
    digests = BlockDigests(frozenset(about_predicates))
    _write_body(graph, lambda text: None, digests)
    return digests


@dataclass
class BlockLayout:
    """Where each block of a Turtle file written by :func:`write_turtle` lies: one ``(key, subject, offset,
    size, prefixes)`` per block in file order (``key``: what blocks are sorted by; ``subject``: the block's IRI
    subject, None for a blank node's; ``offset`` and ``size`` in bytes of the file, without the blank line
    between two blocks; ``prefixes``: those the block uses, None for a block with blank nodes), and
    the prefixes of the blank-node blocks together (``nested_prefixes``). :mod:`kg.incremental` rewrites a
    file by it."""

    blocks: list[tuple[str, str | None, int, int, frozenset[str] | None]] = field(default_factory=list)
    nested_prefixes: frozenset[str] = frozenset()


def write_turtle(graph: Graph, path: Path, digests: BlockDigests | None = None,
                 layout: BlockLayout | None = None) -> None:
    """Write :func:`turtle_bytes` of ``graph`` to ``path`` atomically, without holding the text in memory;
    with ``digests``, record there the digest of every IRI subject's block; with ``layout``, where each block
    lies in the file.

    The blocks go to a temporary file first, because the ``PREFIX`` lines that lead the file name only
    the prefixes the blocks turned out to use."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=Path(path).parent) as body:
        used = _write_body(graph, lambda text: body.write(text.encode("utf-8")), digests, layout)
        size = body.tell()
        body.seek(0)
        with atomic_writer(path) as handle:
            if size:
                header = prefix_lines(used).encode("utf-8")
                handle.write(header)
                if layout is not None:
                    layout.blocks = [(key, subject, offset + len(header), length, prefixes)
                                     for key, subject, offset, length, prefixes in layout.blocks]
                shutil.copyfileobj(body, handle, 1 << 20)


#: Rendered terms remembered while writing (cleared when full, so a huge graph's terms are not all held).
TERM_CACHE_LIMIT = 200_000


def prefix_lines(used: set[str]) -> str:
    prefixes = "".join(f"PREFIX {name}: <{PREFIXES[name]}>\n" for name in sorted(used))
    return prefixes + "\n" if prefixes else ""


def _write_body(graph: Graph, write: Callable[[str], object], digests: BlockDigests | None = None,
                layout: BlockLayout | None = None) -> set[str]:
    """Write every subject's block of ``graph`` in subject order, a blank line between two; return the
    prefixes the blocks use. With ``digests``, record each IRI subject's digests there (a subject described
    with blank nodes, the ontology's, gets its whole block as its ``about`` digest); with ``layout``, where
    each block lies (offsets from the first block)."""
    with_blank: set = set()
    subjects: set = set()
    for s, _, o in graph:
        subjects.add(s)
        if _is_blank(s) or _is_blank(o):
            with_blank.add(s)
    nested = Graph()
    bind_prefixes(nested)
    for s in with_blank:
        for p, o in graph.predicate_objects(s):
            nested.add((s, p, o))
    used: set[str] = set()
    cache: dict[str, tuple[str, str]] = {}
    terms = {str(s): s for s in subjects if s not in with_blank}
    del subjects
    entries: list[tuple[str, str | None]] = [(key, None) for key in terms]
    iri_subjects = {str(s): s for s in with_blank if not isinstance(s, BNode)}
    if len(nested):
        text = nested.serialize(format="longturtle", canon=True)
        lines = text.splitlines(keepends=True)
        while lines and (lines[0].startswith("PREFIX ") or not lines[0].strip()):
            line = lines.pop(0)
            if line.startswith("PREFIX "):
                used.add(line[len("PREFIX "):].split(":", 1)[0])
        if layout is not None:
            layout.nested_prefixes = frozenset(used)
        by_text = {_iri(str(s), set(), cache): str(s) for s in with_blank if not isinstance(s, BNode)}
        for block in "".join(lines).split("\n.\n"):
            block = block.strip("\n")
            if block:
                first = block.split("\n", 1)[0]
                entries.append((by_text.get(first, first), block + "\n.\n"))
    entries.sort(key=lambda entry: entry[0])  # stable: blocks of one key stay in the serializer's order
    about = digests.about_predicates if digests is not None else frozenset()
    grouped = objects_grouper(graph)
    about_lines: list[str] = []
    offset = 0
    for i, (key, block) in enumerate(entries):
        if i:
            write("\n")
            offset += 1
        if block is None:
            subject = terms[key]
            by_predicate = grouped(subject)
            block_used: set[str] = set() if layout is not None else used
            block = plain_block(subject, by_predicate, block_used, cache, about, about_lines)
            if layout is not None:
                used |= block_used
                size = len(block.encode("utf-8"))
                layout.blocks.append((key, key, offset, size, frozenset(block_used)))
                offset += size
            if digests is not None:
                digests.record(subject, block, "".join(about_lines))
                about_lines.clear()
            if len(cache) > TERM_CACHE_LIMIT:
                cache.clear()
        else:
            if digests is not None and key in iri_subjects:
                digests.record(iri_subjects[key], block, block, with_blank_nodes=True)
            if layout is not None:
                size = len(block.encode("utf-8"))
                layout.blocks.append((key, key if key in iri_subjects else None, offset, size, None))
                offset += size
        write(block)
    return used


_NAMESPACES = sorted(((str(ns), name) for name, ns in PREFIXES.items()), key=lambda item: -len(item[0]))
_LOCAL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:[.][A-Za-z0-9_-]+)*|[0-9]+[A-Za-z0-9_-]*")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_TO_ESCAPE = re.compile(r'[\\"\n\r\t\b\f]')


def _iri(term: str, used: set[str], cache: dict[str, tuple[str, str]]) -> str:
    """``term`` as Turtle writes it: a prefixed name where a prefix fits, else ``<…>``; the prefix goes to
    ``used``. ``cache`` remembers each term's text and prefix."""
    found = cache.get(term)
    if found is None:
        found = (f"<{_escape_iri(term)}>", "")
        for namespace, name in _NAMESPACES:
            if term.startswith(namespace) and _LOCAL_NAME.fullmatch(term, len(namespace)):
                found = (f"{name}:{term[len(namespace):]}", name)
                break
        cache[term] = found
    if found[1]:
        used.add(found[1])
    return found[0]


def iri_ref(term: str) -> str:
    """An IRI as Turtle and SPARQL write it in full, escaped where it must be.

    >>> print(iri_ref("urn:a b"))
    <urn:a\\u0020b>
    """
    return f"<{_escape_iri(term)}>"


def _escape_iri(term: str) -> str:
    return "".join(ch if ch > " " and ch not in '<>"{}|^`\\' else f"\\u{ord(ch):04X}" for ch in term)


def _literal(term: Literal, used: set[str], cache: dict[str, tuple[str, str]]) -> str:
    lexical = _TO_ESCAPE.sub(lambda m: _ESCAPES[m.group()], str(term))
    if term.language:
        return f'"{lexical}"@{term.language}'
    if term.datatype is None or term.datatype == XSD.string:
        return f'"{lexical}"'
    return f'"{lexical}"^^{_iri(str(term.datatype), used, cache)}'


def _is_blank(node) -> bool:
    """``isinstance(node, BNode)``, quick for the usual IRIs and literals (rdflib's terms are ABCs, whose
    ``isinstance`` is slow, and a graph's writing asks it of every term)."""
    return node.__class__ not in _PLAIN_CLASSES and isinstance(node, BNode)


_PLAIN_CLASSES = frozenset({URIRef, Literal})
_RDF_TYPE = str(RDF.type)


def term_text(node, used: set[str], cache: dict[str, tuple[str, str]]) -> str:
    """An IRI or literal as :func:`plain_block` writes it (the prefix it uses goes to ``used``).

    >>> from rdflib import Literal, URIRef
    >>> used = set()
    >>> term_text(URIRef("https://w3id.org/diplograph/ontology#Person"), used, {})
    'dg:Person'
    >>> term_text(Literal("x", lang="en"), used, {})
    '"x"@en'
    >>> sorted(used)
    ['dg']
    """
    cls = node.__class__
    if cls is Literal or (cls is not URIRef and isinstance(node, Literal)):
        return _literal(node, used, cache)
    return _iri(str(node), used, cache)


def plain_block(
    subject: URIRef, by_predicate: Mapping, used: set[str], cache: dict[str, tuple[str, str]],
    about: frozenset = frozenset(), about_lines: list[str] | None = None,
) -> str:
    """The Turtle block of a subject without blank nodes (``by_predicate``: each predicate's objects), laid
    out as ``longturtle`` does; the lines of the predicates in ``about`` are also appended to ``about_lines``."""

    def term(node) -> str:
        return term_text(node, used, cache)

    out = [term(subject) + "\n"]
    # predicates compared as strings: rdflib's term equality is Python code, and this runs for every line
    for predicate in sorted(by_predicate, key=lambda p: (not _RDF_TYPE.__eq__(p), str(p))):
        name = "a" if _RDF_TYPE.__eq__(predicate) else term(predicate)
        objects = sorted({term(o) for o in by_predicate[predicate]})
        if len(objects) == 1:
            out.append(f"    {name} {objects[0]} ;\n")
        else:
            out.append(f"    {name}\n" + " ,\n".join(f"        {o}" for o in objects) + " ;\n")
        if predicate in about:
            about_lines.append(out[-1])
    out.append(".\n")
    return "".join(out)


def block_statements(block: str) -> set[str]:
    r"""The triples of a block :func:`plain_block` wrote, each as one Turtle statement in the block's own
    terms (``subject predicate object .``): two blocks of one subject differ by the statements in one and
    not the other, without parsing either.

    >>> block = '<urn:s>\n    a dg:Person ;\n    rdfs:label "a ;" ;\n    dg:x\n        "1" ,\n        "2" ;\n.\n'
    >>> sorted(block_statements(block))
    ['<urn:s> a dg:Person .', '<urn:s> dg:x "1" .', '<urn:s> dg:x "2" .', '<urn:s> rdfs:label "a ;" .']
    """
    subject, sections = block_sections(block)
    return {f"{subject} {name} {value} ." for name, values in sections.items() for value in values}


def block_sections(block: str) -> tuple[str, dict[str, list[str]]]:
    r"""The subject of a block :func:`plain_block` wrote and each predicate's objects in it, as the block
    writes them, in order (the block split apart, not parsed: a literal holds no raw line break, so a block's
    separators never occur inside a term). :func:`sections_block` puts them back together.

    >>> block = '<urn:s>\n    a dg:Person ;\n    rdfs:label "a ;" ;\n    dg:x\n        "1" ,\n        "2" ;\n.\n'
    >>> block_sections(block)
    ('<urn:s>', {'a': ['dg:Person'], 'rdfs:label': ['"a ;"'], 'dg:x': ['"1"', '"2"']})
    >>> sections_block(*block_sections(block)) == block
    True
    """
    subject, _, body = block[:-5].partition("\n    ")  # the block ends " ;\n.\n"
    sections: dict[str, list[str]] = {}
    for section in body.split(" ;\n    "):
        name, separator, objects = section.partition("\n        ")
        if separator:
            sections[name] = objects.split(" ,\n        ")
        else:
            name, _, value = section.partition(" ")
            sections[name] = [value]
    return subject, sections


def sections_block(subject: str, sections: Mapping[str, list[str]]) -> str:
    """The block of ``subject`` with ``sections`` (each predicate's sorted objects, in the order of
    :func:`plain_block`'s predicates), laid out as :func:`plain_block` lays it out."""
    out = [subject, "\n"]
    for name, objects in sections.items():
        if len(objects) == 1:
            out.append(f"    {name} {objects[0]} ;\n")
        else:
            out.append(f"    {name}\n        " + " ,\n        ".join(objects) + " ;\n")
    out.append(".\n")
    return "".join(out)


def predicate_order(name: str) -> tuple[bool, str]:
    """Where a predicate written as ``name`` goes among a block's (:func:`plain_block`: ``a`` first, then by IRI).

    >>> sorted(["rdfs:label", "dg:mentionedIn", "a"], key=predicate_order)
    ['a', 'rdfs:label', 'dg:mentionedIn']
    """
    return (False, "") if name == "a" else (True, str(term_from_text(name)))


_UNESCAPES = {escaped: raw for raw, escaped in _ESCAPES.items()}
_ESCAPED = re.compile(r'\\[\\"nrtbf]')
_ESCAPED_IRI = re.compile(r"\\u([0-9A-F]{4})")


@lru_cache(maxsize=1 << 16)
def term_from_text(text: str) -> URIRef | Literal:
    r"""The IRI or literal that :func:`term_text` writes as ``text`` (``a`` is ``rdf:type``; cached: a grown
    block's dates and roles are read back again and again).

    >>> term_from_text('dg:Person')
    rdflib.term.URIRef('https://w3id.org/diplograph/ontology#Person')
    >>> term_from_text('"Сергей \\"С\\" Лавров"@ru')
    rdflib.term.Literal('Сергей "С" Лавров', lang='ru')
    >>> term_from_text('"2024-05"^^xsd:gYearMonth').datatype
    rdflib.term.URIRef('http://www.w3.org/2001/XMLSchema#gYearMonth')
    """
    if text == "a":
        return RDF.type
    if text[0] == '"':
        end = text.rindex('"')
        lexical = text[1:end]
        if "\\" in lexical:
            lexical = _ESCAPED.sub(lambda m: _UNESCAPES[m.group()], lexical)
        suffix = text[end + 1:]
        if not suffix:
            return Literal(lexical)
        if suffix[0] == "@":
            return Literal(lexical, lang=suffix[1:])
        return Literal(lexical, datatype=term_from_text(suffix[2:]))
    if text[0] == "<":
        return URIRef(_ESCAPED_IRI.sub(lambda m: chr(int(m.group(1), 16)), text[1:-1]))
    prefix, _, local = text.partition(":")
    return URIRef(str(PREFIXES[prefix]) + local)


def block_difference(old: str, new: str) -> tuple[set[str], set[str]]:
    """The statements (as :func:`block_statements` writes them) of block ``old`` not in ``new``, and of ``new``
    not in ``old``, for two blocks of one subject: compared predicate by predicate, so that a block that gained
    a few objects of a long list is not written out statement by statement.

    >>> old = '<urn:s>\\n    dg:x\\n        "1" ,\\n        "2" ;\\n    rdfs:label "a" ;\\n.\\n'
    >>> new = '<urn:s>\\n    dg:x\\n        "1" ,\\n        "2" ,\\n        "3" ;\\n    rdfs:label "b" ;\\n.\\n'
    >>> [sorted(statements) for statements in block_difference(old, new)]
    [['<urn:s> rdfs:label "a" .'], ['<urn:s> dg:x "3" .', '<urn:s> rdfs:label "b" .']]
    """
    subject, before = block_sections(old)
    _, after = block_sections(new)
    removed: set[str] = set()
    added: set[str] = set()
    for name in before.keys() | after.keys():
        was, now = before.get(name, ()), after.get(name, ())
        if was == now:
            continue
        was, now = set(was), set(now)
        removed.update(f"{subject} {name} {value} ." for value in was - now)
        added.update(f"{subject} {name} {value} ." for value in now - was)
    return removed, added


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically: readers see the old file or the new one."""
    with atomic_writer(path) as handle:
        handle.write(data)


@contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """A binary file to write in place of ``path``; it replaces ``path`` atomically when the block ends
    without an error, and is deleted otherwise (the old ``path`` stays)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_temporaries(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_name, 0o666 & ~umask)  # a normal file for its readers, not mkstemp's 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
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
