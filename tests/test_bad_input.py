"""Bad articles through the real build: each is named with its reason, the rest is built, nothing crashes.

One corpus holds every kind of bad input next to two good articles; ``diplograph build`` runs on it in a
subprocess (as a user runs it), and each bad file must appear in the summary with its reason, the good
articles must be built, the summary must count them, ``--strict`` must turn the warnings into exit 1, and
no traceback may reach the user. ``docs/reliability.md`` lists the same inputs and what they produce.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import DCTERMS, RDF

from kg.ingest import MAX_BYTES, parse_document, read_document
from kg.model import PartialDate
from kg.pipeline import build
from kg.vocab import DG

from .conftest import ROOT, SEEDS

GOOD_EN = """---
title: Kazakhstan and Japan
date: 2024-05-06
---
The Foreign Minister of Kazakhstan Murat Nurtleu met the Ambassador of Japan Ichiro Yamada in Astana on 5 May 2024.
"""
SEED_EN = (SEEDS / "002_d8447541c7744ffc.txt").read_bytes()
SEED_RU = (SEEDS / "003_80a9736044a836b5.txt").read_bytes()
SEED_MK = (SEEDS / "000_86800092897b47aa.txt").read_bytes()
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
UNICODE_NAME = "Встреча министров — ünïcödé 2023 ✓.txt"

_rng = random.Random(20240506)
GERMAN = ("Der Außenminister Deutschlands traf sich am Montag in Berlin mit seinem französischen Amtskollegen "
          "zu Gesprächen über die Sicherheit in Europa und die Lage in der Ukraine.")
HTML = ("<!DOCTYPE html><html><head><title>Visit</title><script>alert(1)</script></head><body><div><p>The "
        "Foreign Minister of Kazakhstan Murat Nurtleu met the Ambassador of Japan in Astana.</p></div></body></html>")



def _variant(data: bytes, tag: str) -> str:
    """The article's text with one more line, so that it is not a duplicate of the original."""
    return data.decode("utf-8").rstrip("\n") + f"\n({tag})\n"


#: name -> (bytes, "error" or "warning", what the reason says). Files made specially (the 50 MB file, the
#: folder, the link, the pipe, the unreadable file) are added by ``_make_corpus``.
BAD: dict[str, tuple[bytes, str, str]] = {
    "empty.txt": (b"", "error", "the file is empty"),
    "whitespace.txt": (b"  \n\t \r\n  ", "error", "the file is empty"),
    "binary.txt": (bytes(_rng.randrange(256) for _ in range(4000)) + b"\x00", "error", "binary data, not text"),
    "png-named-txt.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "error", "binary data, not text"),
    "truncated-front-matter.md": (b"---\ntitle: Kazakhstan and Japan\ndate: 2024", "warning",
                                  "front matter is not closed by a '---' line"),
    "invalid-yaml.md": (b"---\ntitle: [unclosed\ndate: : :\n---\n" + GOOD_EN.split("---\n")[2].encode(), "warning",
                        "front matter is not valid YAML (line 3)"),
    "impossible-date.md": (b"---\ntitle: x\ndate: 2024-02-31\n---\nThe minister met the ambassador in Astana.\n",
                           "warning", "front matter is not valid YAML (day is out of range for month)"),
    "cp1251.txt": (_variant(SEED_RU, "cp1251").encode("cp1251"), "warning", "decoded as windows-1251"),
    "utf16-le-bom.txt": (b"\xff\xfe" + _variant(SEED_RU, "le").encode("utf-16-le"), "warning", "decoded as UTF-16"),
    "utf16-be-bom.txt": (b"\xfe\xff" + _variant(SEED_MK, "be").encode("utf-16-be"), "warning", "decoded as UTF-16"),
    "utf32.txt": (GOOD_EN.encode("utf-32"), "error", "UTF-32 text is not supported"),
    "latin1-noise.txt": (bytes(_rng.randrange(0xA0, 0x100) for _ in range(3000)), "error",
                         "not UTF-8 text and not readable as Windows-1251"),
    "latin1-german.txt": (GERMAN.encode("latin-1"), "warning", "decoded as windows-1251"),
    "html-page.txt": (HTML.encode(), "warning", "looks like HTML, not plain text"),
    "german.txt": (GERMAN.encode(), "warning", "language not supported or not recognised"),
    "bulgarian.txt": ("Министърът на външните работи на България се срещна днес в София с посланика на Казахстан. "
                      "Двамата обсъдиха двустранните отношения и търговията.".encode(), "warning",
                      "language not supported or not recognised"),
    "persian.txt": ("وزیر امور خارجه ایران امروز در تهران با سفیر قزاقستان دیدار و گفتگو کرد. دو طرف درباره روابط "
                    "دوجانبه و همکاری‌های اقتصادی گفتگو کردند.".encode(), "warning",
                    "language not supported or not recognised"),
    "zz-duplicate.txt": (SEED_EN, "warning", "duplicate of"),
    "only-front-matter.md": (b"---\ntitle: Nothing else\n---\n\n", "error", "no article text after the front matter"),
}
SPECIAL = {
    "huge.txt": ("error", "too large (52,428,800 bytes; the limit is 5,000,000)"),
    "folder-named-like.txt": ("error", "a folder named like an article"),
    "dangling-link.txt": ("error", "a link to a file that does not exist"),
    "named-pipe.txt": ("error", "not a regular file"),
}
if not IS_ROOT:
    SPECIAL["unreadable.txt"] = ("error", "cannot be read (Permission denied)")
GOOD = {"good-en.txt": SEED_EN, "good-ru.txt": SEED_RU, UNICODE_NAME: SEED_MK,
        "folder-named-like.txt/inside.txt": GOOD_EN.encode()}


def _make_corpus(src: Path) -> None:
    src.mkdir(parents=True)
    (src / "folder-named-like.txt").mkdir()
    for name, data in GOOD.items():
        (src / name).write_bytes(data)
    for name, (data, _, _) in BAD.items():
        (src / name).write_bytes(data)
    with (src / "huge.txt").open("wb") as handle:  # 50 MB, sparse: refused by its size before any read
        handle.truncate(50 * 1024 * 1024)
    (src / "dangling-link.txt").symlink_to(src / "no-such-article.txt")
    os.mkfifo(src / "named-pipe.txt")  # reading it would block the build for ever
    if not IS_ROOT:
        (src / "unreadable.txt").write_bytes(GOOD_EN.encode())
        (src / "unreadable.txt").chmod(0)


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "kg", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env=env)


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    """The bad corpus built once by the CLI (with and without --strict); (src, out, completed, strict)."""
    base = tmp_path_factory.mktemp("bad-corpus")
    src = base / "src"
    _make_corpus(src)
    completed = _cli("build", str(src), "--out", str(base / "out"), "--no-html")
    strict = _cli("build", str(src), "--out", str(base / "strict"), "--no-html", "--no-store", "--strict")
    yield src, base / "out", completed, strict
    if (src / "unreadable.txt").exists():
        (src / "unreadable.txt").chmod(0o644)


def _summary_entries(stderr: str) -> list[tuple[str, str, str]]:
    """(section, file name, reason) for every line the summary lists under 'skipped' or 'warning(s)'."""
    entries, section = [], None
    for line in stderr.splitlines():
        if re.match(r"\d+ article\(s\) skipped:", line):
            section = "error"
        elif re.match(r"\d+ warning\(s\):", line):
            section = "warning"
        elif section and line.startswith("  "):
            path, _, reason = line.strip().partition(": ")
            entries.append((section, Path(path).name, reason))
    return entries


def test_no_traceback_reaches_the_user(corpus_run):
    _, _, completed, strict = corpus_run
    for run in (completed, strict):
        assert "Traceback" not in run.stderr and 'File "' not in run.stderr, run.stderr[-3000:]
        assert "Traceback" not in run.stdout


def test_the_good_articles_are_built_and_the_run_succeeds(corpus_run):
    src, out, completed, _ = corpus_run
    assert completed.returncode == 0, completed.stderr[-3000:]
    graph = Graph().parse(out / "graph.ttl")
    identifiers = {str(graph.value(a, DCTERMS.identifier)) for a in graph.subjects(RDF.type, DG.Article)}
    assert {"good-en", "good-ru", Path(UNICODE_NAME).stem, "inside", "cp1251", "utf16-le-bom"} <= identifiers
    assert "zz-duplicate" not in identifiers and "empty" not in identifiers
    assert len(set(graph.subjects(RDF.type, DG.Meeting))) >= 10
    article = next(graph.subjects(DCTERMS.identifier, Literal(Path(UNICODE_NAME).stem)))
    assert " " not in str(article) and str(article).isascii()


@pytest.mark.parametrize("name", sorted([*BAD, *SPECIAL]))
def test_each_bad_file_is_named_with_its_reason(corpus_run, name):
    _, _, completed, _ = corpus_run
    kind, reason = BAD[name][1:] if name in BAD else SPECIAL[name]
    listed = [(section, why) for section, file, why in _summary_entries(completed.stderr) if file == name]
    assert any(section == kind and reason in why for section, why in listed), (name, listed)


def test_the_summary_counts_them(corpus_run):
    _, _, completed, _ = corpus_run
    entries = _summary_entries(completed.stderr)
    errors = {file for section, file, _ in entries if section == "error"}
    expected = {name for name, (_, kind, _) in BAD.items() if kind == "error"}
    expected |= {name for name, (kind, _) in SPECIAL.items() if kind == "error"}
    assert errors == expected
    assert re.search(rf"^{len(expected)} article\(s\) skipped:", completed.stderr, re.M)
    counts = re.search(r"(\d+) of (\d+) articles built", completed.stderr)
    assert counts, completed.stderr[-2000:]
    built, listed = int(counts[1]), int(counts[2])
    assert listed == len(GOOD) + len(BAD) + len(SPECIAL)
    duplicates = sum(1 for e in entries if "duplicate of" in e[2])
    assert duplicates == 1 and built == listed - len(expected) - duplicates


def test_strict_turns_warnings_into_a_failure(corpus_run, tmp_path):
    _, _, _, strict = corpus_run
    assert strict.returncode == 1
    assert "article(s) skipped" in strict.stderr
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "a.txt").write_bytes(SEED_EN)
    run = _cli("build", str(clean), "--out", str(tmp_path / "out"), "--no-html", "--no-store", "--strict")
    assert run.returncode == 0, run.stderr
    (clean / "b.txt").write_bytes(GERMAN.encode())  # one warning is enough
    run = _cli("build", str(clean), "--out", str(tmp_path / "out"), "--no-html", "--no-store", "--strict")
    assert run.returncode == 1 and "language not supported" in run.stderr


def test_a_missing_source_is_one_line_not_a_traceback(tmp_path):
    run = _cli("build", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert run.returncode != 0 and "Traceback" not in run.stderr
    assert "nowhere" in run.stderr and "no such file or folder" in run.stderr


# ------------------------------------------------------------------------------------------
# One by one, in process
# ------------------------------------------------------------------------------------------


def test_a_50_mb_file_is_refused_by_its_size_without_reading_it(tmp_path):
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(Exception) as error:
            read_document(huge)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 1.0 and peak < 1_000_000
    assert "too large" in str(error.value) and str(huge) in str(error.value)


def test_a_file_that_grows_past_the_limit_after_stat_is_still_refused(tmp_path, monkeypatch):
    grown = tmp_path / "grown.txt"
    grown.write_bytes(b"a " * (MAX_BYTES // 2 + 10))
    real_stat = Path.stat

    def small_stat(self, *args, **kwargs):
        info = real_stat(self, *args, **kwargs)
        return os.stat_result((info.st_mode, *info[1:6], 10, *info[7:]))

    monkeypatch.setattr(Path, "stat", small_stat)
    with pytest.raises(Exception, match="too large"):
        read_document(grown)


def test_an_unreadable_file_is_named_even_as_root(tmp_path, monkeypatch):
    """chmod 000 does not stop root, so the refusal to open is simulated here."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "good.txt").write_bytes(SEED_EN)
    (src / "locked.txt").write_bytes(GOOD_EN.encode())
    real_open = Path.open

    def guarded_open(self, *args, **kwargs):
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded_open)
    report = build(src, tmp_path / "out", progress=lambda m: None, store=False, html=False)
    assert report.built == 1
    assert (str(src / "locked.txt"), "cannot be read (Permission denied)") in report.errors


@pytest.mark.skipif(IS_ROOT, reason="root reads a chmod 000 file")
def test_chmod_000_is_refused(tmp_path):
    locked = tmp_path / "locked.txt"
    locked.write_bytes(GOOD_EN.encode())
    locked.chmod(0)
    try:
        with pytest.raises(Exception, match="Permission denied"):
            read_document(locked)
    finally:
        locked.chmod(0o644)


def test_a_named_pipe_is_not_opened(tmp_path):
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)
    started = time.monotonic()
    with pytest.raises(Exception, match="not a regular file"):
        read_document(pipe)
    assert time.monotonic() - started < 1.0


def test_a_tangut_letter_in_a_russian_article_does_not_stop_the_build(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "good.txt").write_bytes(SEED_EN)
    (src / "tangut.txt").write_text("Президент \U00017000Токаев встретился с министром Иваном Петровым в Астане.")
    run = _cli("build", str(src), "--out", str(tmp_path / "out"), "--no-html", "--no-store")
    assert run.returncode == 0 and "Traceback" not in run.stderr


def _build(tmp_path, files: dict[str, bytes], **options):
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    for name, data in files.items():
        (src / name).write_bytes(data)
    options = {"store": False, "html": False, **options}
    return build(src, tmp_path / "out", progress=lambda message: None, **options)


def test_a_newline_at_the_end_of_a_file_name_does_not_break_the_graph(tmp_path):
    """A file "abc\\n.txt" used to give the article IRI <.../article/abc\\n>; the build then died parsing it."""
    report = _build(tmp_path, {"abc\n.txt": SEED_EN, "good.txt": SEED_RU}, store=True)
    assert report.built == 2 and not report.errors
    graph = Graph().parse(tmp_path / "out" / "graph.ttl")
    article = next(graph.subjects(DCTERMS.identifier, Literal("abc\n")))
    assert "\n" not in str(article) and str(article).rsplit("/", 1)[1].startswith("h")


def test_a_file_name_that_is_not_utf8_does_not_stop_the_build(tmp_path):
    """b"caf\\xe9.txt" (a Latin-1 name) reaches Python as "caf\\udce9"; mint() and the Turtle writer choked on it."""
    src = tmp_path / "src"
    src.mkdir()
    try:
        (src / os.fsdecode(b"caf\xe9.txt")).write_bytes(SEED_EN)
    except (OSError, UnicodeError):
        pytest.skip("this file system accepts only UTF-8 names")
    (src / "good.txt").write_bytes(SEED_RU)
    run = _cli("build", str(src), "--out", str(tmp_path / "out"), "--no-html")
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr[-2000:]
    graph = Graph().parse(tmp_path / "out" / "graph.ttl")
    assert (None, DCTERMS.identifier, Literal("caf\ufffd")) in graph


# ------------------------------------------------------------------------------------------
# Front matter that PyYAML reads but cannot construct, and front matter that would explode
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("front", [
    "date: 2024-02-31",  # ValueError from PyYAML's timestamp constructor
    "date: 0000-01-01",
    "date: 2024-01-01 25:61:61",
    "n: !!int 0x_",
    "n: !!float nonsense",
    "a: " + "[" * 3000 + "]" * 3000,  # RecursionError
])
def test_front_matter_pyyaml_cannot_construct_is_a_warning(front):
    doc = parse_document("x", "x.md", f"---\ntitle: T\n{front}\n---\nThe minister met the ambassador today.\n")
    assert any("front matter is not valid YAML" in w for w in doc.warnings), doc.warnings
    assert doc.published is None


def test_an_impossible_front_matter_date_does_not_stop_the_build(tmp_path):
    bad = b"---\ntitle: x\ndate: 2024-02-31\n---\nThe minister met the ambassador today in Astana.\n"
    report = _build(tmp_path, {"good.md": GOOD_EN.encode(), "bad.md": bad})
    assert report.built == 2 and report.meetings >= 1
    assert any(p.endswith("bad.md") and "day is out of range for month" in r for p, r in report.warnings)


def test_yaml_aliases_are_not_expanded_into_a_title():
    """ "billion laughs": 300 bytes of aliases that str() would turn into 10**7 words (10**9 with two more)."""
    levels = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(6))
    text = f"---\n{levels}title: *g\nlang: *g\ndate: *g\n---\n# Minister met ambassador\nThe minister met him.\n"
    started = time.monotonic()
    doc = parse_document("x", "x.md", text)
    assert time.monotonic() - started < 1.0
    assert doc.title == "Minister met ambassador"
    assert any("date, lang, title is not a single value" in w for w in doc.warnings), doc.warnings


def test_front_matter_lists_elsewhere_are_fine():
    doc = parse_document("x", "x.md", "---\ntitle: T\ntags: [a, b]\n---\nThe minister met the ambassador today.\n")
    assert doc.warnings == () and doc.title == "T"


# ------------------------------------------------------------------------------------------
# Dates at the ends of the calendar
# ------------------------------------------------------------------------------------------


def test_yesterday_before_year_one_does_not_stop_the_build(tmp_path):
    bad = (b'---\ndate: "0001-01-01"\nlang: en\n---\nYesterday the Foreign Minister of Kazakhstan Murat Nurtleu '
           b"met the Ambassador of Japan Ichiro Yamada in Astana.\n")
    report = _build(tmp_path, {"good.md": GOOD_EN.encode(), "first-day.md": bad})
    assert report.built == 2 and not report.errors
    doc = parse_document("x", "x.md", bad.decode())
    assert doc.published == PartialDate(1, 1, 1)
