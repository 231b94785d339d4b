"""Atomic writes: a killed writer's temporary file is cleaned up by the next write, a live one is not."""

from __future__ import annotations

import os
import time

from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import Graph

from kg.serialize import STALE_AFTER_S, write_atomic


def test_abandoned_temporaries_are_removed_and_fresh_ones_kept(tmp_path):
    target = tmp_path / "graph.ttl"
    old = tmp_path / ".graph.ttl.abc123.tmp"
    fresh = tmp_path / ".graph.ttl.def456.tmp"
    old.write_bytes(b"half")
    fresh.write_bytes(b"being written")
    past = time.time() - STALE_AFTER_S - 60
    os.utime(old, (past, past))
    write_atomic(target, b"data")
    assert target.read_bytes() == b"data"
    assert not old.exists()
    assert fresh.exists()
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)


def test_block_digests_follow_a_subjects_block_and_its_lines_that_others_read(tmp_path):
    """What write_turtle records for validation: the digest of each subject's whole block, and of its lines for
    the chosen predicates (with its IRI); block_digests gives the same without writing."""
    from rdflib import Literal, URIRef
    from rdflib.namespace import RDF, RDFS

    from kg.serialize import BlockDigests, block_digests, write_turtle

    a, b, cls = URIRef("urn:a"), URIRef("urn:b"), URIRef("urn:C")
    graph = Graph()
    for triple in [(a, RDF.type, cls), (a, RDFS.label, Literal("A")), (b, RDF.type, cls), (a, RDFS.seeAlso, b)]:
        graph.add(triple)
    about = frozenset({RDF.type})
    written = BlockDigests(about)
    write_turtle(graph, tmp_path / "g.ttl", written)
    again = block_digests(graph, about)
    assert written.own == again.own and written.about == again.about and set(written.own) == {a, b}
    assert written.about[a] != written.about[b]  # same lines, another node

    graph.set((a, RDFS.label, Literal("A2")))  # a's block changes, not its typed lines
    relabelled = block_digests(graph, about)
    assert relabelled.own[a] != again.own[a] and relabelled.about[a] == again.about[a]
    assert relabelled.own[b] == again.own[b]
    graph.add((a, RDF.type, URIRef("urn:D")))
    retyped = block_digests(graph, about)
    assert retyped.about[a] != again.about[a]


def test_a_compact_store_and_rdflib_memory_give_the_same_turtle():
    """The writer reads a compact store's objects grouped by predicate (kg.memgraph) and any other graph by
    triple patterns: the seeds' whole graph (the ontology's blank nodes included) and literals of every kind
    come out byte for byte the same, and parse back to the same graph."""
    from pathlib import Path

    from rdflib import BNode, Literal, URIRef
    from rdflib.compare import isomorphic
    from rdflib.namespace import RDF, RDFS, XSD

    from kg.extract import extract
    from kg.ingest import read_document
    from kg.memgraph import compact_graph
    from kg.pipeline import to_graph
    from kg.serialize import turtle_bytes
    from kg.vocab import bind_prefixes

    seeds = Path(__file__).resolve().parent.parent / "seeds"
    built = to_graph([extract(read_document(path)) for path in sorted(seeds.iterdir()) if path.is_file()])
    s, o = URIRef("urn:x:s"), URIRef("https://w3id.org/diplograph/id/person/p1")
    extra = [(s, RDF.type, RDFS.Class), (s, RDFS.label, Literal('a "quoted"\nline', lang="en")),
             (s, RDFS.comment, Literal("7", datatype=XSD.integer)), (s, RDFS.seeAlso, o),
             (s, RDFS.seeAlso, URIRef("urn:x:b")), (o, RDFS.seeAlso, BNode("b1")),
             (BNode("b1"), RDFS.label, Literal("x"))]
    compact, plain = compact_graph(), Graph()
    for graph in (compact, plain):
        bind_prefixes(graph)
        for triple in [*built, *extra]:
            graph.add(triple)
    text = turtle_bytes(compact)
    assert text == turtle_bytes(plain)
    assert isomorphic(Graph().parse(data=text, format="turtle"), plain)


def test_a_blocks_statements_are_its_subjects_triples():
    """kg.serialize.block_statements reads the writer's own layout back, line by line: for every subject of
    the seeds' graph without blank nodes, plus literals with the writer's separators and escapes inside,
    its statements parse to exactly that subject's triples."""
    from pathlib import Path

    from rdflib import Literal, URIRef
    from rdflib.namespace import RDFS, XSD

    from kg.extract import extract
    from kg.ingest import read_document
    from kg.memgraph import objects_grouper
    from kg.pipeline import to_graph
    from kg.serialize import (
        block_difference,
        block_sections,
        block_statements,
        plain_block,
        sections_block,
        term_from_text,
    )
    from kg.vocab import PREFIXES

    seeds = Path(__file__).resolve().parent.parent / "seeds"
    graph = to_graph([extract(read_document(path)) for path in sorted(seeds.iterdir()) if path.is_file()],
                     with_ontology=False)
    s = URIRef("https://w3id.org/diplograph/id/person/x1")
    for value in ['a ;', 'b , c', 'say "hi" ;\nthen ,', "back\\slash", "tab\there"]:
        graph.add((s, RDFS.label, Literal(value, lang="en")))
    graph.add((s, RDFS.comment, Literal("7", datatype=XSD.integer)))
    header = "".join(f"PREFIX {name}: <{ns}>\n" for name, ns in PREFIXES.items())
    grouped = objects_grouper(graph)
    subjects = sorted({subject for subject in graph.subjects() if isinstance(subject, URIRef)})
    assert len(subjects) > 50
    for subject in subjects:
        block = plain_block(subject, grouped(subject), set(), {})
        parsed = Graph().parse(data=header + "\n".join(sorted(block_statements(block))), format="turtle")
        assert set(parsed) == set(graph.triples((subject, None, None))), subject
        # split into its predicates' objects and put back together, the same block; each object read back
        head, sections = block_sections(block)
        assert sections_block(head, sections) == block
        assert {(subject, term_from_text(name), term_from_text(value)) for name, values in sections.items()
                for value in values} == set(graph.triples((subject, None, None)))
        assert block_difference(block, block) == (set(), set())


def test_two_blocks_differ_by_the_statements_of_one_not_in_the_other():
    """kg.serialize.block_difference (predicate by predicate) = the difference of the blocks' statements."""
    from rdflib import Literal, URIRef
    from rdflib.namespace import RDF, RDFS

    from kg.serialize import block_difference, block_statements, plain_block
    from kg.vocab import DG

    s = URIRef("https://w3id.org/diplograph/id/person/x1")
    articles = [URIRef(f"https://w3id.org/diplograph/id/article/a{n}") for n in range(6)]
    before = {RDF.type: [DG.Person], DG.mentionedIn: articles[:4], RDFS.label: [Literal("A")]}
    cases = [
        {**before, DG.mentionedIn: articles},  # gained objects
        {**before, DG.mentionedIn: articles[:1]},  # one left: a list becomes a line
        {RDF.type: [DG.Person], RDFS.label: [Literal("B")]},  # a predicate gone, one changed
        {**before, RDFS.comment: [Literal("new ;")]},  # a predicate added
    ]
    old = plain_block(s, before, set(), {})
    for after in cases:
        new = plain_block(s, after, set(), {})
        was, now = block_statements(old), block_statements(new)
        assert block_difference(old, new) == (was - now, now - was)


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    lexical=_TEXT,
    kind=st.sampled_from(["plain", "lang", "date", "integer", "iri", "prefixed"]),
    local=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8),
)
def test_a_term_read_back_from_its_text_is_the_term(lexical, kind, local):
    """kg.serialize.term_from_text inverts term_text, escapes and all (the text a grown block is read from)."""
    from rdflib import Literal, URIRef
    from rdflib.namespace import XSD

    from kg.serialize import term_from_text, term_text
    from kg.vocab import DG

    term = {
        "plain": Literal(lexical),
        "lang": Literal(lexical, lang="ru"),
        "date": Literal(lexical, datatype=XSD.date),
        "integer": Literal(lexical, datatype=XSD.integer),
        "iri": URIRef("urn:x:" + local),
        "prefixed": URIRef(str(DG) + local),
    }[kind]
    text = term_text(term, set(), {})
    back = term_from_text(text)
    assert back == term and type(back) is type(term) and str(back) == str(term)
