"""The pipeline on small hand-written corpora: merging one meeting reported twice, bad files skipped."""

from __future__ import annotations

from rdflib import Graph
from rdflib.namespace import PROV, RDF

from kg.pipeline import build
from kg.vocab import DG

EN_OBJECT = "with Minister of Foreign Affairs of Turkey Hakan Fidan."
RU_OBJECT = "с министром иностранных дел Турции Хаканом Фиданом."
EN = f"""---
title: EU and Turkey
date: 2025-02-14
---
High Representative of the European Union Kaja Kallas met today {EN_OBJECT}
"""
RU = f"""---
title: ЕС и Турция
date: 2025-02-15
---
Вчера верховный представитель Европейского союза Кая Каллас встретилась {RU_OBJECT}
"""


def _build(tmp_path, files: dict[str, bytes]):
    src = tmp_path / "src"
    src.mkdir()
    for name, data in files.items():
        (src / name).write_bytes(data)
    report = build(src, tmp_path / "out", progress=lambda m: None, store=False, html=False)
    return report, Graph().parse(tmp_path / "out" / "graph.ttl")


def test_one_meeting_reported_in_two_languages_is_one_meeting(tmp_path):
    report, graph = _build(tmp_path, {"a.txt": EN.encode(), "b.txt": RU.encode()})
    meetings = list(graph.subjects(RDF.type, DG.Meeting))
    assert len(meetings) == 1, report.summary()
    assert len(set(graph.objects(meetings[0], PROV.wasDerivedFrom))) == 2
    assert len(set(graph.objects(meetings[0], DG.evidence))) == 2
    assert len(set(graph.objects(meetings[0], DG.participant))) == 2


def test_bad_files_are_reported_and_the_rest_is_built(tmp_path):
    report, graph = _build(tmp_path, {"a.txt": EN.encode(), "empty.txt": b"", "bin.txt": b"\x00\x01" * 100,
                                      "copy.txt": EN.encode()})
    assert report.built == 1
    reasons = dict(report.errors)
    assert any("empty" in r for p, r in reasons.items() if p.endswith("empty.txt"))
    assert any("binary" in r for p, r in reasons.items() if p.endswith("bin.txt"))
    assert any("duplicate" in r for _, r in report.warnings)
    assert len(list(graph.subjects(RDF.type, DG.Meeting))) == 1


def test_quotes_survive_the_build_dropping_document_texts(tmp_path):
    """A build holds each article's metadata and evidence quotes, not its text: the quotes in the graph are
    the article's sentences, also when an extractor sends whole extractions instead of their graph part."""
    from kg.cache import encode_extraction
    from kg.extract import extract
    from kg.ingest import read_document

    src = tmp_path / "src"
    src.mkdir()
    (src / "en.md").write_text(EN, encoding="utf-8")
    (src / "ru.md").write_text(RU, encoding="utf-8")

    def whole_extractions(docs):
        return [encode_extraction(extract(doc)) for doc in docs]

    default = build(src, tmp_path / "a", store=False, html=False, jobs=1, progress=lambda m: None)
    whole = build(src, tmp_path / "b", store=False, html=False, jobs=1, progress=lambda m: None,
                  extractor=whole_extractions)
    assert default.meetings == whole.meetings == 2  # two reports of one meeting
    turtle = (tmp_path / "a" / "graph.ttl").read_bytes()
    assert turtle == (tmp_path / "b" / "graph.ttl").read_bytes()
    quotes = {str(q) for q in Graph().parse(data=turtle, format="turtle").objects(None, DG.quote)}
    texts = [read_document(src / name).text for name in ("en.md", "ru.md")]
    assert len(quotes) == 2 and all(any(q in t for t in texts) for q in quotes)
    assert any(EN_OBJECT in q for q in quotes) and any(RU_OBJECT in q for q in quotes)


def test_a_graph_breaking_the_shapes_leaves_the_previous_outputs(tmp_path, monkeypatch):
    """graph.ttl is written before validation (validation reads the digests taken while writing), beside the
    old one: a graph that does not conform replaces nothing and leaves no file behind."""
    import pytest
    from rdflib import Literal
    from rdflib.namespace import XSD

    import kg.pipeline as pipeline
    from kg.errors import UserError

    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(EN.encode())
    out = tmp_path / "out"
    build(src, out, progress=lambda m: None, html=False)
    before = {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()}
    store_meta = (out / "store" / "meta.json").read_bytes()
    validated = (out / ".cache" / pipeline.VALIDATED_FILE).read_bytes()
    real = pipeline.to_graph

    def with_a_second_date(extractions, **options):
        graph = real(extractions, **options)
        for meeting in graph.subjects(RDF.type, DG.Meeting):
            graph.add((meeting, DG.date, Literal("1999-01-01", datatype=XSD.date)))
        return graph

    monkeypatch.setattr(pipeline, "to_graph", with_a_second_date)
    (src / "b.txt").write_bytes(RU.encode())
    with pytest.raises(UserError, match="breaks its SHACL shapes"):
        build(src, out, progress=lambda m: None, html=False)
    assert {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()} == before
    assert (out / "store" / "meta.json").read_bytes() == store_meta
    assert (out / ".cache" / pipeline.VALIDATED_FILE).read_bytes() == validated
    assert not list(out.glob(".*.tmp"))
