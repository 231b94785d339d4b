"""Ingestion of the seed articles: language and publication date of each, titles, bad input."""

from __future__ import annotations

import pytest

from kg.errors import ArticleError
from kg.ingest import decode, parse_document, read_document
from kg.model import PartialDate

from .conftest import SEEDS

EXPECTED = {
    "000_86800092897b47aa": ("mk", "2023-08-12"),
    "001_024a5de57f4ab7c9": ("ar", None),
    "002_d8447541c7744ffc": ("en", "2024-06-26"),
    "003_80a9736044a836b5": ("ru", "2026-03-12"),
    "004_e35de1aa424282bb": ("ar", "2023-08-26"),
}


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_seed_language_and_date(stem):
    doc = read_document(SEEDS / f"{stem}.txt")
    language, published = EXPECTED[stem]
    assert doc.language == language
    assert (doc.published.iso() if doc.published else None) == published


def test_title_ending_in_a_date_is_the_texts_own_date():
    doc = read_document(SEEDS / "000_86800092897b47aa.txt")
    assert doc.dateline == PartialDate(2023, 8, 11)
    assert doc.reference_date == PartialDate(2023, 8, 11)


def test_titles_are_found():
    titles = {stem: read_document(SEEDS / f"{stem}.txt").title for stem in EXPECTED}
    assert titles["000_86800092897b47aa"].startswith("Влада: Средба")
    assert titles["001_024a5de57f4ab7c9"].startswith("كازاخستان تقدم أستانا")
    assert titles["003_80a9736044a836b5"].startswith("МИД: Казахстанские дипломаты")
    assert titles["004_e35de1aa424282bb"].startswith("كازاخستان والأمم المتحدة")


def test_dateline_without_year_takes_the_year_from_the_text():
    doc = parse_document("x", "x.txt", "Заголовок статьи о встрече\nАлматы, 5 мая. Министр встретился с послом. "
                         "Визит завершится в 2025 году, как и было объявлено ранее в 2024 году.")
    assert doc.published == PartialDate(2025, 5, 5)


def test_front_matter_date_wins_and_unknown_language_is_said():
    doc = parse_document("x", "x.txt", "---\ntitle: Hallo\ndate: 2024-01-02\n---\nDer Außenminister traf sich heute "
                         "mit seinem Amtskollegen aus Frankreich in Berlin zu Gesprächen.")
    assert doc.published == PartialDate(2024, 1, 2)
    assert doc.language == "unknown"
    assert doc.title == "Hallo"


@pytest.mark.parametrize(
    "data, reason",
    [(b"", "empty"), (b"   \n\t", "empty"), (b"\x00\x01\x02binary\x00" * 20, "binary")],
)
def test_bad_bytes_are_named(data, reason):
    with pytest.raises(ArticleError) as error:
        decode("bad.txt", data)
    assert "bad.txt" in str(error.value) and reason in str(error.value)


def test_utf16_and_cp1251_are_decoded():
    text = "Министр иностранных дел встретился с послом."
    assert decode("a.txt", text.encode("utf-16"))[0] == text
    assert decode("a.txt", text.encode("cp1251"))[0] == text


def test_unclosed_front_matter_is_a_warning_not_a_crash():
    doc = parse_document("x", "x.txt", "---\ntitle: broken\nThe minister met the ambassador in the capital today.")
    assert any("front matter" in w for w in doc.warnings)
