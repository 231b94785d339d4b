"""What a build holds of each article between extraction and the graph: the graph part of its extraction,
encoded, beside its document without text; stages read it one article at a time, in document order."""

from __future__ import annotations

from pathlib import Path

from kg.cache import EncodedExtractions, encode_extraction
from kg.extract import extract
from kg.ingest import read_document
from kg.model import in_document_order
from kg.parallel import extract_payload
from kg.pipeline import BuildReport, extract_cached, to_graph
from kg.serialize import turtle_bytes

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def _documents():
    return [read_document(path) for path in sorted(SEEDS.iterdir(), reverse=True) if path.is_file()]


def test_encoded_extractions_decode_in_document_order_without_texts():
    docs = _documents()
    held = EncodedExtractions((doc, extract_payload(doc)) for doc in docs)
    assert len(held) == len(docs) and held.ordered_by_document_id
    ids = [ex.document.id for ex in held]
    assert ids == sorted(doc.id for doc in docs) and ids != [doc.id for doc in docs]
    assert [ex.document.id for ex in held[1:3]] == ids[1:3] and held[-1].document.id == ids[-1]
    by_id = {doc.id: doc for doc in docs}
    for ex in held:
        doc = by_id[ex.document.id]
        assert ex.document.text == "" and ex.document.content_hash == doc.content_hash
        assert not ex.sentences and not ex.mentions
        whole = extract(doc)
        assert [m.evidence for m in ex.meetings] == [m.evidence for m in whole.meetings]
        for meeting in ex.meetings:
            for start, end in meeting.evidence:
                assert ex.quote(start, end) == doc.text[start:end] != ""
    assert in_document_order(held) is held  # iterated as it is, never all decoded at once
    assert [ex.document.id for ex in in_document_order([extract(d) for d in docs])] == ids


def test_the_graph_of_encoded_extractions_is_the_graph_of_whole_ones():
    docs = _documents()
    whole = [extract(doc) for doc in docs]
    held = EncodedExtractions((doc, extract_payload(doc)) for doc in docs)
    assert turtle_bytes(to_graph(held)) == turtle_bytes(to_graph(whole))


def test_extract_cached_keeps_and_returns_graph_parts(tmp_path):
    docs = _documents()

    def whole_extractions(batch):  # an extractor that sends more than the graph part
        return [encode_extraction(extract(doc)) for doc in batch]

    report = BuildReport("seeds")
    first = extract_cached(docs, tmp_path, report, workers=None, extractor=whole_extractions)
    assert isinstance(first, EncodedExtractions) and report.extracted == len(docs)
    again = BuildReport("seeds")
    second = extract_cached(docs, tmp_path, again, workers=None, extractor=whole_extractions)
    assert again.reused == len(docs) and again.extracted == 0
    for a, b in zip(first, second, strict=True):
        assert a.document == b.document and not a.mentions and not b.sentences and a.quotes == b.quotes
    assert turtle_bytes(to_graph(second)) == turtle_bytes(to_graph([extract(doc) for doc in docs]))


def test_the_graph_stages_decode_each_extraction_once(monkeypatch):
    import kg.cache

    docs = _documents()
    held = EncodedExtractions((doc, extract_payload(doc)) for doc in docs)
    decoded: list[str] = []
    real = kg.cache.decode_extraction

    def counting(payload, doc):
        decoded.append(doc.id)
        return real(payload, doc)

    monkeypatch.setattr(kg.cache, "decode_extraction", counting)
    report = BuildReport("seeds")
    graph = to_graph(held, report=report)
    assert sorted(decoded) == sorted(doc.id for doc in docs) == decoded  # once each, in document order
    monkeypatch.undo()
    assert report.meetings == sum(len(ex.meetings) for ex in held) > 0
    assert turtle_bytes(graph) == turtle_bytes(to_graph([extract(doc) for doc in docs]))
