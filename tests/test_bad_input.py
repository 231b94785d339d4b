"""Bad articles through the real build: each is named with its reason, the rest is built, nothing crashes."""

from __future__ import annotations

import time

import pytest

from kg.ingest import parse_document
from kg.model import PartialDate
from kg.pipeline import build

GOOD_EN = """---
title: Kazakhstan and Japan
date: 2024-05-06
---
The Foreign Minister of Kazakhstan Murat Nurtleu met the Ambassador of Japan Ichiro Yamada in Astana on 5 May 2024.
"""


def _build(tmp_path, files: dict[str, bytes], **options):
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    for name, data in files.items():
        (src / name).write_bytes(data)
    options = {"store": False, "html": False, **options}
    return build(src, tmp_path / "out", progress=lambda message: None, **options)


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
