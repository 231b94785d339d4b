"""Topic cues per language, on sentences written for the test (``tests/data/topic_cases.yaml``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kg.topics import topics_in_text

CASES_FILE = Path(__file__).parent / "data" / "topic_cases.yaml"
CASES = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8")) if CASES_FILE.exists() else []


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['lang']}:{c['text'][:40]}")
def test_topic_cues(case):
    assert topics_in_text(case["lang"], case["text"]) == set(case["topics"])


def test_every_notation_has_cues_in_every_language():
    from kg.lang import language, supported_languages

    notations = {line.split("\t")[0] for line in
                 (Path(__file__).parent.parent / "ontology" / "topics.tsv").read_text(encoding="utf-8").splitlines()[1:]
                 if line.strip()}
    for lang in supported_languages():
        labels = {p.label for p in language(lang).topics.phrases}
        assert notations <= labels, (lang, sorted(notations - labels))
