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


def test_dateline_without_year_takes_the_year_of_coming_events():
    """Coming events bound the year from above; with nothing past to contradict, the earliest is the year."""
    doc = parse_document("x", "x.txt", "Заголовок статьи о встрече\nАлматы, 5 мая. Министр встретился с послом. "
                         "Стороны обсудили предстоящий в 2025 году форум и саммит, запланированный на 2027 год.")
    assert doc.published == PartialDate(2025, 5, 5)


@pytest.mark.parametrize(("text", "expected"), [
    ("МИНСК, 14 февраля (БЕЛТА) - Министр провел переговоры с коллегой. За январь 2025 года товарооборот вырос "
     "вдвое. Белорусская сторона готовится провести в 2025 году бизнес-форум.", PartialDate(2025, 2, 14)),
    ("МАНАГУА, 11 апреля. /ТАСС/. Министр провел переговоры с коллегой. Министры наметили на 2026 год заседание "
     "комиссии.", PartialDate(2026, 4, 11)),
    ("Тирана, 12 јуни (МИА) - Министерот оствари средба со колегата. Двајцата се подготвуваат за самитот во "
     "2025 година.", PartialDate(2025, 6, 12)),
])
def test_dateline_without_year_takes_the_year_of_future_cues(text, expected):
    """ru/mk ``future_cues`` ("готовится", "наметили", "се подготвуваат") bound the year from above like the
    planned-meeting cues do."""
    doc = parse_document("x", "x.txt", "Заголовок статьи о встрече министров\n" + text)
    assert doc.published == expected


@pytest.mark.parametrize("text", [
    # history and facts are lower bounds only
    "KUALA LUMPUR, Dec 11 (Reuters) - The two leaders met on Monday. Relations were established in 1957. "
    "Trade reached $25 billion in 2022.",
    # a future year after a past one leaves a range
    "KUALA LUMPUR, Dec 11 (Reuters) - The leaders met on Monday to discuss preparations for chairing the bloc "
    "in 2025, a role it last held in 2015. Trade reached $25 billion in 2022.",
    # "city في date" without a year is no dateline; the history year is not its year
    "القاهرة في 3 مارس /أ ش أ/ استقبل وزير الخارجية اليوم نظيره النيجيري.\nيذكر أن العلاقات تعود إلى عام 1960.",
    "أبوظبي في 5 فبراير / وام / التقى الوزير اليوم السفير، وتم استعراض التحضيرات لمؤتمر الأطراف في عام 2025.",
])
def test_dateline_year_is_not_invented(text):
    doc = parse_document("x", "x.txt", "Headline of a wire story about talks\n" + text)
    assert doc.published is None and doc.dateline is None


@pytest.mark.parametrize(("text", "expected"), [
    # the next of a series comes after the text's year: alone it gives none
    ("Тирана, 12 јуни (МИА) - Министрите усвоија декларација. Следниот самит ќе се одржи во Скопје во 2025 година.",
     None),
    ("ВЕНА, 20 ноября. /ТАСС/. Министр выступил на заседании. Следующее заседание пройдет в 2025 году.", None),
    # ... and with a past year just before it, that year
    ("ВЕНА, 20 ноября. /ТАСС/. Министр выступил на заседании. Следующее заседание пройдет в 2025 году. "
     "В 2024 году председательство перешло к Мальте.", PartialDate(2024, 11, 20)),
])
def test_next_event_of_a_series_bounds_the_year_from_above(text, expected):
    doc = parse_document("x", "x.txt", "Заголовок статьи о заседании министров\n" + text)
    assert doc.published == expected


def test_dateline_with_a_linking_word_and_a_year():
    doc = parse_document("x", "x.txt", "عنوان الخبر عن اللقاء\nمسقط في 12 فبراير 2024 /العُمانية/ استقبل الوزير اليوم "
                         "نظيره الإيراني. وتعود العلاقات إلى عام 1974.")
    assert doc.dateline == PartialDate(2024, 2, 12)


def test_hijri_and_gregorian_date_line_gives_the_gregorian_date():
    doc = parse_document("x", "x.txt", "وزير الخارجية يستقبل نظيرته\n\n"
                         "جدة 15 شعبان 1445 هـ الموافق 25 فبراير 2024 م واس\n\n"
                         "استقبل وزير الخارجية اليوم وزيرة خارجية أستراليا.")
    assert doc.published == PartialDate(2024, 2, 25)


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


def test_articles_are_listed_in_the_order_paths_sort_in(tmp_path):
    """discover() sorts by a key, not by comparing Path objects: the order must stay the paths' own (part by
    part: "a/b.txt" before "a-c.txt", though "/" sorts after "-" in a string)."""
    from kg.ingest import discover

    names = ["a/b.txt", "a-c.txt", "A.txt", "b/a/z.md", "b.txt", "a b.txt", "ä.txt", "0.txt", "a/.hidden.txt",
             "x.TXT", "a/b/c.txt", "a.b/c.txt", "notes.csv"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / "folder.txt").mkdir()  # listed, to be reported as no file
    (tmp_path / ".git" / "x").mkdir(parents=True)
    (tmp_path / ".git" / "x" / "in-hidden.txt").write_text("x", encoding="utf-8")
    (tmp_path / "linked").symlink_to(tmp_path / "b", target_is_directory=True)  # not followed
    (tmp_path / "broken.txt").symlink_to(tmp_path / "nowhere.txt")
    listed = discover(tmp_path)
    assert listed == sorted(p for p in tmp_path.rglob("*") if p.suffix.lower() in (".txt", ".md")
                            and not p.name.startswith("."))
    assert listed.index(tmp_path / "a" / "b.txt") < listed.index(tmp_path / "a-c.txt")
    assert tmp_path / "folder.txt" in listed and tmp_path / "broken.txt" in listed
    assert tmp_path / ".git" / "x" / "in-hidden.txt" in listed and not any("linked" in p.parts for p in listed)
    assert discover(f"{tmp_path}/") == listed
