"""Persons found by the title in front of their name, for names the extractor has never seen.

Cases in ``tests/data/title_cases.yaml`` were written per language (not taken from the seeds).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kg.model import Sentence
from kg.recognise import find_persons, parse_sentence
from kg.text import fold

CASES = yaml.safe_load((Path(__file__).parent / "data" / "title_cases.yaml").read_text(encoding="utf-8"))


def persons_in(lang: str, text: str):
    sentence = Sentence(0, 0, len(text), 0, text)
    return find_persons(text, parse_sentence(text, sentence, lang), lang, {})


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['lang']}:{c['text'][:40]}")
def test_title_gives_person_and_role(case):
    found = persons_in(case["lang"], case["text"])
    expected_surname = fold(case["name"].split()[-1])
    match = [m for m in found if fold(m.name.surname)[:4] == expected_surname[:4]]
    assert match, f"no person like {case['name']!r} in {[m.name.label for m in found]}"
    assert case["role"] in {r.key for r in match[0].roles}, [r.key for r in match[0].roles]
