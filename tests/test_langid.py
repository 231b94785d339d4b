"""Language identification: supported languages recognised, their confusers refused, and the cheap first look
(:data:`kg.langid.FIRST_LOOK_CHARS`) never answering otherwise than the full sample would."""

from __future__ import annotations

from pathlib import Path

import pytest

import kg.langid as langid
from kg.langid import detect_language

ROOT = Path(__file__).resolve().parent.parent
CONFUSERS = sorted((ROOT / "tests" / "data" / "langid").glob("*.txt"))


def full_sample_answer(text: str) -> str:
    """What the detector answers from :data:`kg.langid.SAMPLE_CHARS` characters alone (no first look)."""
    if not langid._enough_letters(text):
        return "unknown"
    code, confidence = langid._best(text[: langid.SAMPLE_CHARS])
    if code not in langid.supported_languages() or confidence < langid.MIN_CONFIDENCE:
        return "unknown"
    return code


def repository_articles() -> list[Path]:
    """Every real article the repository holds: the seeds, the dev set and the golden cases."""
    found = sorted((ROOT / "tests" / "data" / "devset" / "articles").glob("*.txt"))
    found += sorted((ROOT / "tests" / "cases").glob("*/article.txt"))
    found += sorted(path for path in (ROOT / "seeds").iterdir() if path.is_file())
    return found


@pytest.mark.parametrize("path", CONFUSERS, ids=lambda p: p.stem)
def test_languages_next_to_the_supported_ones_are_unknown(path):
    text = path.read_text(encoding="utf-8")
    assert len(text) > langid.FIRST_LOOK_CHARS
    assert detect_language(text) == "unknown"


def test_first_look_answers_as_the_full_sample_on_every_article_and_other_openings():
    articles = repository_articles()
    assert len(articles) > 100
    checked = 0
    for path in articles:
        text = path.read_text(encoding="utf-8", errors="replace")
        # another article's opening: the same text from a later sentence on
        for start in (0, 400, 1100):
            if len(text) - start < 300:
                continue
            sample = text[start:]
            assert detect_language(sample) == full_sample_answer(sample), f"{path.name} from {start}"
            checked += 1
    assert checked > 150


def test_the_first_look_settles_a_clear_article_and_an_unsure_one_reads_the_full_sample(monkeypatch):
    text = max((path.read_text(encoding="utf-8") for path in repository_articles()), key=len)
    assert len(text) > langid.SAMPLE_CHARS
    seen: list[int] = []
    best = langid._best

    def recording(sample: str) -> tuple[str, float]:
        seen.append(len(sample))
        return best(sample)

    monkeypatch.setattr(langid, "_best", recording)
    clear = detect_language(text)
    assert clear != "unknown" and seen == [langid.FIRST_LOOK_CHARS]

    seen.clear()
    monkeypatch.setattr(langid, "SURE_CONFIDENCE", 1.01)  # nothing is sure enough: the full sample decides
    assert detect_language(text) == clear
    assert seen == [langid.FIRST_LOOK_CHARS, langid.SAMPLE_CHARS]


def test_letters_are_counted_across_the_whole_text():
    assert not langid._enough_letters("1 2 3 " * 2000 + "abc")
    assert langid._enough_letters("1 2 3 " * 2000 + "a" * langid.MIN_LETTERS)
    assert detect_language("." * 5000) == "unknown"
