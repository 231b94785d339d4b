"""Incremental builds: the extraction cache in OUT/.cache gives the same bytes as a clean build, extracts
only what changed, forgets what was deleted, survives damage and interruption, and is versioned."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

import kg.cache
import kg.pipeline
from kg.cache import CACHE_DIR, DB_NAME, ExtractionCache, _version_of, document_key, extractor_version
from kg.incremental import STATE_FILE
from kg.ingest import parse_document
from kg.pipeline import build

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

EXTRA = {
    "en_one.txt": """---
title: Austria and Japan
date: 2024-03-05
---
Minister of Foreign Affairs of Austria Johann Berger met with Minister of Foreign Affairs of Japan Hiroshi Tanabe
in Vienna on 5 March 2024. The sides discussed trade and economic cooperation and energy security.
""",
    "ru_two.txt": """---
title: Переговоры в Белграде
date: 2023-10-11
---
11 октября 2023 года министр иностранных дел Сербии Милан Петрович провел переговоры с министром иностранных дел
Казахстана Арманом Сеитовым в Белграде. Стороны обсудили вопросы транспорта и логистики.
""",
    "en_three.txt": """---
title: Phone call
date: 2022-07-19
---
On 19 July 2022, Deputy Foreign Minister of Egypt Khalid Haddad had a telephone conversation with
Ambassador of Finland Mikko Virtanen. Particular attention was paid to water resources.
""",
}
NEW = """---
title: Talks in Doha
date: 2024-11-02
---
Minister of Foreign Affairs of Qatar Omar al-Tamimi held talks with Minister of Foreign Affairs of Austria
Johann Berger in Doha on 2 November 2024. The officials exchanged views on migration and regional security.
"""
CHANGED = (EXTRA["en_one.txt"].replace("5 March 2024", "6 March 2024").replace("2024-03-05", "2024-03-06")
           .replace("energy security", "tourism"))


def _corpus(folder: Path, files: dict[str, str], seeds: bool = True) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    if seeds:
        for path in SEEDS.glob("*.txt"):
            shutil.copy(path, folder / path.name)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _build(source: Path, out: Path, **options):
    options = {"store": False, "html": False, "jobs": 1, **options}
    return build(source, out, progress=lambda message: None, **options)


def _clean_bytes(source: Path, tmp_path: Path, name: str) -> bytes:
    out = tmp_path / name
    _build(source, out, cache=False)
    assert not (out / CACHE_DIR).exists()  # cache=False neither reads nor writes it
    return (out / "graph.ttl").read_bytes()


def test_incremental_build_equals_clean_build_after_add_change_delete(tmp_path):
    source = _corpus(tmp_path / "src", EXTRA)
    out = tmp_path / "out"
    first = _build(source, out)
    assert (first.extracted, first.reused, first.stale) == (8, 0, 0)
    assert (out / "graph.ttl").read_bytes() == _clean_bytes(source, tmp_path, "clean0")

    again = _build(source, out)
    assert (again.extracted, again.reused, again.stale) == (0, 8, 0)  # nothing to extract
    assert "reused 8 from the cache" in again.summary()
    assert (out / "graph.ttl").read_bytes() == _clean_bytes(source, tmp_path, "clean0b")

    (source / "new.txt").write_text(NEW, encoding="utf-8")  # add
    (source / "en_one.txt").write_text(CHANGED, encoding="utf-8")  # change
    (source / "ru_two.txt").unlink()  # delete
    third = _build(source, out)
    assert (third.extracted, third.reused, third.stale) == (2, 6, 2)  # the old en_one and ru_two entries
    incremental = (out / "graph.ttl").read_bytes()
    assert incremental == _clean_bytes(source, tmp_path, "clean1")
    # what the deleted article asserted is gone, the new one is there
    assert "Петрович".encode() not in incremental and b"ru_two" not in incremental
    assert b"Tamimi" in incremental
    assert b"2024-03-06" in incremental and b"2024-03-05" not in incremental

    with ExtractionCache(out / CACHE_DIR) as cache:
        assert len(cache) == 8  # one entry per article: stale ones were pruned


def test_renamed_article_reuses_its_entry_and_gets_its_new_name(tmp_path):
    source = _corpus(tmp_path / "src", EXTRA, seeds=False)
    out = tmp_path / "out"
    _build(source, out)
    (source / "en_three.txt").rename(source / "en_renamed.txt")
    report = _build(source, out)
    assert (report.extracted, report.reused) == (0, 3)
    data = (out / "graph.ttl").read_bytes()
    assert b"en_renamed" in data and b"en_three" not in data
    assert data == _clean_bytes(source, tmp_path, "clean")


def test_extractor_version_change_invalidates_every_entry(tmp_path, monkeypatch):
    source = _corpus(tmp_path / "src", EXTRA, seeds=False)
    out = tmp_path / "out"
    _build(source, out)
    monkeypatch.setattr(kg.cache, "extractor_version", lambda: "another-version")
    report = _build(source, out)
    assert (report.extracted, report.reused, report.stale) == (3, 0, 3)
    with ExtractionCache(out / CACHE_DIR, version="another-version") as cache:
        assert len(cache) == 3


def test_version_covers_code_and_lexicons(tmp_path):
    package = Path(kg.cache.__file__).resolve().parent
    copy = tmp_path / "kg"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__", "static", "commands"))
    before = _version_of(copy)
    assert before == _version_of(copy) == extractor_version()  # commands/ and static/ are not part of it
    stopwords = copy / "data" / "lang" / "en" / "stopwords.yaml"
    stopwords.write_text(stopwords.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    after_data = _version_of(copy)
    assert after_data != before
    (copy / "extract.py").write_text((copy / "extract.py").read_text(encoding="utf-8") + "\n# changed\n")
    after_code = _version_of(copy)
    assert after_code not in (before, after_data)
    (copy / "commands").mkdir()
    (copy / "commands" / "x.py").write_text("# not extraction code\n")
    (copy / "__pycache__").mkdir()
    (copy / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert _version_of(copy) == after_code


def test_key_ignores_name_and_path_but_not_what_ingestion_read():
    a = parse_document("a", "x/a.txt", "Johann Berger met Hiroshi Tanabe in Vienna.")
    b = parse_document("b", "y/b.txt", "Johann Berger met Hiroshi Tanabe in Vienna.")
    assert document_key(a) == document_key(b)
    dated = parse_document("a", "x/a.txt", "---\ndate: 2024-01-02\n---\nJohann Berger met Hiroshi Tanabe in Vienna.")
    assert document_key(dated) != document_key(a)


def test_damaged_database_is_rebuilt(tmp_path):
    source = _corpus(tmp_path / "src", EXTRA, seeds=False)
    out = tmp_path / "out"
    _build(source, out)
    (out / CACHE_DIR / DB_NAME).write_bytes(b"this is not a database" * 100)
    report = _build(source, out)
    assert (report.extracted, report.reused) == (3, 0)
    assert (out / "graph.ttl").read_bytes() == _clean_bytes(source, tmp_path, "clean")
    assert _build(source, out).reused == 3


def test_damaged_entry_is_a_miss(tmp_path):
    source = _corpus(tmp_path / "src", EXTRA, seeds=False)
    out = tmp_path / "out"
    _build(source, out)
    db = sqlite3.connect(out / CACHE_DIR / DB_NAME)
    with db:
        key, payload = db.execute("SELECT key, payload FROM extraction ORDER BY key LIMIT 1").fetchone()
        db.execute("UPDATE extraction SET payload = ? WHERE key = ?", (payload[:-5] + b"XXXXX", key))
        db.execute("UPDATE extraction SET checksum = ? WHERE key != ?", (b"0" * 32, key))
    db.close()
    report = _build(source, out)
    assert (report.extracted, report.reused) == (3, 0)
    assert (out / "graph.ttl").read_bytes() == _clean_bytes(source, tmp_path, "clean")


def test_the_read_cache_keeps_no_text_and_an_article_it_cannot_serve_is_read_again(tmp_path, monkeypatch):
    """Documents are cached without their text; where an article's extraction is missing (a damaged entry, a
    build killed between reading and extracting) its file is read again, and one that cannot be is reported."""
    source = _corpus(tmp_path / "src", EXTRA, seeds=False)
    out = tmp_path / "out"
    _build(source, out)
    db = sqlite3.connect(out / CACHE_DIR / DB_NAME)
    with ExtractionCache(out / CACHE_DIR) as cache:
        keys = [key for (key,) in db.execute("SELECT key FROM document")]
        assert keys and all(doc.text == "" for doc in cache.get_documents(keys).values())
    with db:
        db.execute("DELETE FROM extraction")
    db.close()
    report = _build(source, out)
    assert (report.extracted, report.reused, report.errors) == (3, 0, [])
    assert (out / "graph.ttl").read_bytes() == _clean_bytes(source, tmp_path, "clean")

    db = sqlite3.connect(out / CACHE_DIR / DB_NAME)
    with db:
        db.execute("DELETE FROM extraction")
    db.close()
    lost = sorted(source.glob("*.txt"))[0]
    real = kg.pipeline.read_article
    monkeypatch.setattr(kg.pipeline, "read_article",
                        lambda path: (str(path), "no such file") if Path(path) == lost else real(path))
    report = _build(source, out)
    assert report.errors == [(str(lost), "no such file")] and (report.built, report.extracted) == (2, 2)


@pytest.mark.parametrize("scan_from", [10**9, 1])
def test_entries_are_looked_up_many_at_a_time_as_one_at_a_time(tmp_path, monkeypatch, scan_from):
    """ExtractionCache.get_payloads reads a few hundred keys a query, or the whole table for many keys: the
    same entries as get_payload one by one, across query boundaries, with missing keys, a damaged entry and
    one of another version left out."""
    import kg.cache
    from kg.cache import ExtractionCache

    monkeypatch.setattr(kg.cache, "_KEYS_A_QUERY", 7)
    monkeypatch.setattr(kg.cache, "_SCAN_FROM", scan_from)
    with ExtractionCache(tmp_path, version="v1") as cache:
        for n in range(40):
            doc = parse_document(f"d{n}", f"d{n}.txt", f"Johann Berger met Hiroshi Tanabe {n} times.")
            cache.put(doc, f"payload {n}".encode())
    db = sqlite3.connect(tmp_path / DB_NAME)
    with db:
        keys = [key for (key,) in db.execute("SELECT key FROM extraction ORDER BY key")]
        db.execute("UPDATE extraction SET payload = ? WHERE key = ?", (b"damaged", keys[3]))
        db.execute("UPDATE extraction SET version = ? WHERE key = ?", ("v0", keys[11]))
    db.close()
    asked = [*keys, "no such key", keys[5]]
    with ExtractionCache(tmp_path, version="v1") as cache:
        one_by_one = {key: cache.get_payload(key) for key in asked if cache.get_payload(key) is not None}
        assert cache.get_payloads(asked) == one_by_one
    assert len(one_by_one) == 38 and keys[3] not in one_by_one and keys[11] not in one_by_one


def test_interrupted_build_keeps_committed_entries_and_previous_outputs(tmp_path, monkeypatch):
    source = _corpus(tmp_path / "src", EXTRA)
    out = tmp_path / "out"
    _build(source, out)
    previous = (out / "graph.ttl").read_bytes()
    (source / "new.txt").write_text(NEW, encoding="utf-8")
    shutil.rmtree(out / CACHE_DIR)

    monkeypatch.setattr(kg.pipeline, "CACHE_COMMIT_EVERY", 1)
    done = []

    def crashing_extractor(docs):
        from kg.parallel import extract_payload

        for doc in docs:
            if len(done) == 4:
                raise KeyboardInterrupt  # Ctrl-C in the middle of the extract stage
            done.append(doc.id)
            yield extract_payload(doc)

    with pytest.raises(KeyboardInterrupt):
        _build(source, out, extractor=crashing_extractor)
    assert (out / "graph.ttl").read_bytes() == previous  # nothing half-written
    assert not list(out.glob(".graph.ttl.*"))
    resumed = _build(source, out)
    assert (resumed.reused, resumed.extracted) == (4, 5)
    assert (out / "graph.ttl").read_bytes() == _clean_bytes(source, tmp_path, "clean")


def test_validation_failure_keeps_the_cache(tmp_path, monkeypatch):
    from kg.errors import UserError
    from kg.validate import ValidationReport

    source = _corpus(tmp_path / "src", EXTRA, seeds=False)
    out = tmp_path / "out"
    monkeypatch.setattr("kg.validate.validate_in_parts", lambda graph, *a, **k: (ValidationReport(False, []), set()))
    with pytest.raises(UserError):
        _build(source, out)
    assert not (out / "graph.ttl").exists()
    monkeypatch.undo()
    assert _build(source, out).reused == 3


def test_second_run_of_the_cli_extracts_nothing(tmp_path, capsys):
    from kg.cli import main

    source = _corpus(tmp_path / "src", EXTRA, seeds=False)
    out = tmp_path / "out"
    assert main(["build", str(source), "--out", str(out), "--no-store", "--no-html", "--jobs", "1"]) == 0
    assert main(["build", str(source), "--out", str(out), "--no-store", "--no-html", "--jobs", "1"]) == 0
    assert "extracted 0 article(s), reused 3 from the cache" in capsys.readouterr().err
    assert main(["build", str(source), "--out", str(out), "--no-store", "--no-html", "--no-cache"]) == 0
    assert "from the cache" not in capsys.readouterr().err


def test_unchanged_files_are_not_read_again(tmp_path, monkeypatch):
    source = _corpus(tmp_path / "src", EXTRA, seeds=False)
    out = tmp_path / "out"
    first = (_build(source, out), (out / "graph.ttl").read_bytes())
    read: list[str] = []
    real = kg.pipeline.read_article

    def counting(path):
        read.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(kg.pipeline, "read_article", counting)
    _build(source, out)
    assert read == [] and (out / "graph.ttl").read_bytes() == first[1]
    (source / "en_one.txt").write_text(CHANGED, encoding="utf-8")
    (source / "en_four.txt").write_text(NEW, encoding="utf-8")
    (source / "ru_two.txt").unlink()
    report = _build(source, out)
    assert sorted(read) == ["en_four.txt", "en_one.txt"]
    clean = tmp_path / "clean"
    _build(source, clean, cache=False)
    assert (out / "graph.ttl").read_bytes() == (clean / "graph.ttl").read_bytes()
    assert report.articles == 3
    with ExtractionCache(out / CACHE_DIR) as cache:
        assert {k for (k,) in cache._db.execute("SELECT key FROM document")} == {
            kg.cache.file_key(path) for path in sorted(source.glob("*.txt"))
        }


def _store_triples(store_dir: Path) -> set:
    import pyoxigraph as ox

    from kg.store import DATA_DIR

    store = ox.Store.read_only(str(store_dir / DATA_DIR))
    try:
        # blank nodes (the ontology's class expressions) get new labels in each store: compare without them
        return {(str(q.subject), str(q.predicate), str(q.object)) for q in store
                if not isinstance(q.subject, ox.BlankNode) and not isinstance(q.object, ox.BlankNode)}
    finally:
        del store


def test_rebuild_patches_the_store_to_what_a_clean_build_stores(tmp_path):
    """After adding, changing and deleting articles, the store is patched in place (the subjects whose Turtle
    changed, replaced in one transaction) and holds what a clean build's store holds; its metadata names the
    new graph.ttl. Without the index of the store's graph it is rebuilt, with the same result."""
    from kg.store import store_info

    source = _corpus(tmp_path / "src", EXTRA)
    out = tmp_path / "out"
    first = _build(source, out, store=True)
    assert not first.store_patched  # nothing to patch: built
    assert len(list((out / CACHE_DIR).glob("store-index-*.tsv"))) == 1

    (source / "new.txt").write_text(NEW, encoding="utf-8")
    (source / "en_one.txt").write_text(CHANGED, encoding="utf-8")
    (source / "ru_two.txt").unlink()
    second = _build(source, out, store=True)
    assert second.store_patched
    clean = tmp_path / "clean"
    _build(source, clean, store=True, cache=False)
    patched = _store_triples(out / "store")
    assert patched == _store_triples(clean / "store")
    assert not any("Петрович" in o for _, _, o in patched) and any("Tamimi" in o for _, _, o in patched)
    meta = store_info(out / "store")
    assert meta["source_sha256"] == store_info(clean / "store")["source_sha256"]
    assert meta["triples"] == store_info(clean / "store")["triples"] == second.triples
    indexes = list((out / CACHE_DIR).glob("store-index-*.tsv"))
    assert [p.name for p in indexes] == [f"store-index-{meta['source_sha256']}.tsv"]
    assert not list((out / CACHE_DIR).glob(".store-index.*"))

    third = _build(source, out, store=True, html=True)  # another option, the same graph: an empty patch
    assert third.store_patched and _store_triples(out / "store") == patched

    indexes[0].unlink()  # the index is gone: a full build cannot patch the store, it rebuilds it
    (out / CACHE_DIR / STATE_FILE).unlink()  # (and without its graph state, a build is a full one)
    (source / "ru_two.txt").write_text(EXTRA["ru_two.txt"], encoding="utf-8")
    fourth = _build(source, out, store=True)
    assert not fourth.store_patched
    assert _store_triples(out / "store") == _store_triples(_rebuilt(source, tmp_path / "clean2"))


def test_memory_is_given_back_before_the_store_is_built_not_before_it_is_patched(tmp_path, monkeypatch):
    """Returning freed memory to the system (a full collection, ~0.3 s at 10k articles) is for Oxigraph's bulk
    loader; patching the store loads no file."""
    calls = []
    monkeypatch.setattr(kg.pipeline, "_give_back_freed_memory", lambda: calls.append("given back"))
    source = _corpus(tmp_path / "src", EXTRA)
    out = tmp_path / "out"
    assert not _build(source, out, store=True).store_patched and calls == ["given back"]
    (source / "new.txt").write_text(NEW, encoding="utf-8")
    assert _build(source, out, store=True).store_patched and calls == ["given back"]
    (source / "new.txt").unlink()
    _build(source, out, store=False)
    assert calls == ["given back"]


def _rebuilt(source: Path, out: Path) -> Path:
    _build(source, out, store=True, cache=False)
    return out / "store"


def test_a_store_that_is_not_the_expected_one_is_rebuilt_not_patched(tmp_path, monkeypatch):
    """A store is patched only from the graph its index describes. A store whose metadata names another
    graph, or one whose patch was killed after the update (its index is dropped before), is rebuilt."""
    import json

    import kg.store

    source = _corpus(tmp_path / "src", EXTRA, seeds=False)
    out = tmp_path / "out"
    _build(source, out, store=True)
    meta_file = out / "store" / "meta.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    meta["source_sha256"] = "0" * 64  # built from another file since
    meta_file.write_text(json.dumps(meta), encoding="utf-8")
    (source / "new.txt").write_text(NEW, encoding="utf-8")
    report = _build(source, out, store=True)
    assert not report.store_patched
    assert _store_triples(out / "store") == _store_triples(_rebuilt(source, tmp_path / "clean"))

    (source / "new.txt").unlink()
    import kg.serialize

    real = kg.serialize.write_atomic
    calls = []

    def killed_after_the_update(path, data):
        if sys._getframe(1).f_code.co_name == "patch_store":
            calls.append(path)
            if len(calls) == 1:
                raise KeyboardInterrupt  # the update is committed, meta.json not yet written
        return real(path, data)

    monkeypatch.setattr(kg.serialize, "write_atomic", killed_after_the_update)
    with pytest.raises(KeyboardInterrupt):
        _build(source, out, store=True)
    assert not list((out / CACHE_DIR).glob("store-index-*.tsv"))
    assert not list((out / CACHE_DIR).glob(".store-index.*"))
    (source / "new.txt").write_text(NEW, encoding="utf-8")  # back to the graph the killed patch started from
    again = _build(source, out, store=True)
    assert not again.store_patched
    assert _store_triples(out / "store") == _store_triples(_rebuilt(source, tmp_path / "clean2"))


def test_a_rebuild_of_an_unchanged_corpus_leaves_the_outputs_standing(tmp_path):
    """Nothing changed since a complete build (the articles, what was read of them, the extractor, the
    ontology and shapes, the options, the outputs by SHA-256): the rebuild stops after reading, with the
    counts of the build that made the outputs. Any difference makes it a full rebuild."""
    source = _corpus(tmp_path / "src", EXTRA, seeds=False)
    out = tmp_path / "out"
    first = _build(source, out, store=True, html=True)
    outputs = {name: (out / name).read_bytes() for name in ("graph.ttl", "graph.html")}

    again = _build(source, out, store=True, html=True)
    assert "link+to_rdf" not in again.timings and "store" not in again.timings
    assert (again.meetings, again.triples, again.built) == (first.meetings, first.triples, first.built)
    assert {name: (out / name).read_bytes() for name in outputs} == outputs

    (out / "graph.ttl").write_bytes(outputs["graph.ttl"].replace(b"Berger", b"Burger"))  # edited by hand
    restored = _build(source, out, store=True, html=True)
    assert "link+to_rdf" in restored.timings and (out / "graph.ttl").read_bytes() == outputs["graph.ttl"]

    (out / "graph.html").unlink()
    assert "link+to_rdf" in _build(source, out, store=True, html=True).timings
    assert (out / "graph.html").is_file()

    assert "link+to_rdf" in _build(source, out, store=True, html=False).timings  # another option
    assert "link+to_rdf" not in _build(source, out, store=True, html=False).timings

    shutil.rmtree(out / "store")
    assert "store" in _build(source, out, store=True, html=False).timings

    (source / "en_three.txt").rename(source / "en_renamed.txt")  # same text, another article name
    renamed = _build(source, out, store=True, html=False)
    assert "link+to_rdf" in renamed.timings and b"en_renamed" in (out / "graph.ttl").read_bytes()


def test_a_patch_the_store_refuses_changes_nothing(tmp_path):
    """An update Oxigraph cannot parse is applied not at all: patch_store says so (the build then rebuilds the
    store) and the store and its metadata are as they were."""
    from kg.store import patch_store, store_info

    source = _corpus(tmp_path / "src", EXTRA, seeds=False)
    out = tmp_path / "out"
    _build(source, out, store=True)
    before, meta = _store_triples(out / "store"), store_info(out / "store")
    subject = sorted(before)[0][0]
    result = patch_store(out / "store", out / "graph.ttl", expected_sha256=meta["source_sha256"],
                         replaced=[subject], blocks=['<urn:a> <urn:p> "not closed ;\n.\n'], triples=1)
    assert result is None
    assert _store_triples(out / "store") == before and store_info(out / "store") == meta
