"""The library API behind ``diplograph build``: articles in, one graph out.

    from kg.pipeline import build
    report = build("seeds", "exports")

Stages run in this declared order; each is a pure function of the previous stage's output
except the first (reading files) and the last (writing files).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph

from kg.errors import ArticleError, UserError
from kg.extract import extract
from kg.identity import link_persons
from kg.ingest import discover, read_document
from kg.lang import supported_languages
from kg.model import ArticleExtraction, Document
from kg.rdf import data_graph
from kg.serialize import turtle_bytes, write_atomic
from kg.vocab import bind_prefixes

STAGES = ("read", "extract", "link", "to_rdf", "write", "store", "html")


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

    def summary(self) -> str:
        lines = [
            f"{self.built} of {self.articles} articles built from {self.source}: {self.meetings} meetings, "
            f"{self.triples} triples -> {self.out}",
        ]
        if self.errors:
            lines.append(f"{len(self.errors)} article(s) skipped:")
            lines += [f"  {path}: {reason}" for path, reason in self.errors]
        if self.warnings:
            lines.append(f"{len(self.warnings)} warning(s):")
            lines += [f"  {path}: {reason}" for path, reason in self.warnings]
        return "\n".join(lines)


def read_documents(source: Path, report: BuildReport) -> list[Document]:
    """Stage "read": every article under ``source``; bad files are reported, never fatal."""
    documents: list[Document] = []
    seen_hashes: dict[str, str] = {}
    paths = discover(source)
    report.articles = len(paths)
    for path in paths:
        try:
            doc = read_document(path)
        except ArticleError as error:
            report.errors.append((error.path, error.reason))
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


def extract_all(documents: list[Document]) -> list[ArticleExtraction]:
    """Stage "extract": one pure call per article."""
    return [extract(doc) for doc in documents]


def to_graph(extractions: list[ArticleExtraction], with_ontology: bool = True) -> Graph:
    """Stages "link" and "to_rdf": identities across articles, then the graph."""
    person_keys, possibly_same = link_persons(extractions)
    graph = data_graph(extractions, person_keys, possibly_same)
    if with_ontology:
        from kg.ontology import ontology_graph

        for triple in ontology_graph():
            graph.add(triple)
    bind_prefixes(graph)
    return graph


def build(
    source: str | Path,
    out: str | Path,
    progress: Callable[[str], None] | None = None,
    store: bool = True,
    html: bool = True,
    validate: bool = True,
) -> BuildReport:
    """Build ``out/graph.ttl`` from the articles under ``source``, then the query store
    (``out/store/``) and the interactive page (``out/graph.html``) from it.

    The graph is checked against the SHACL shapes first; a graph that breaks them is not
    written (the previous outputs stay) unless ``validate`` is false.
    """
    source, out = Path(source), Path(out)
    report = BuildReport(str(source), str(out / "graph.ttl"))
    say = progress or (lambda message: print(message, file=sys.stderr))
    documents = read_documents(source, report)
    say(f"read {len(documents)} article(s)")
    extractions = extract_all(documents)
    graph = to_graph(extractions)
    report.built = len(documents)
    report.meetings = sum(len(ex.meetings) for ex in extractions)
    report.triples = len(graph)
    if validate:
        from kg.validate import validate as shacl_validate

        result = shacl_validate(graph)
        if not result.conforms:
            raise UserError(f"the graph breaks its SHACL shapes; nothing was written\n{result.text()}")
    write_atomic(out / "graph.ttl", turtle_bytes(graph))
    if store:
        from kg.store import build_store

        build_store(out / "graph.ttl", out / "store")
    if html:
        from kg.html import write_graph_html

        write_graph_html(graph, out / "graph.html")
    return report
