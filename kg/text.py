"""Tokens and sentences with character offsets into the document text.

>>> [t.surface for t in tokenize("Касым-Жомарт Токаев встретился с Ian Borg’s team.")]
['Касым-Жомарт', 'Токаев', 'встретился', 'с', 'Ian', 'Borg’s', 'team']
>>> [s.text for s in split_sentences("Астана. 12 марта. Он сказал: «Да». Next one!\\n\\nNew para")]
['Астана.', '12 марта.', 'Он сказал: «Да».', 'Next one!', 'New para']
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from kg.model import Sentence

_ARABIC_MARKS = "\u0610-\u061a\u064b-\u065f\u0670\u0640"
WORD = re.compile(rf"[\w{_ARABIC_MARKS}]+(?:[-‐‑'’][\w{_ARABIC_MARKS}]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?؟…])[\"'»”)]*\s+")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st no vs jr sr h.e e.g i.e gen col lt prof eng engr amb hon rt "
    "г гг т.е т.к им ул д корр рис см".split()
)
_ARABIC_MARKS_RE = re.compile(f"[{_ARABIC_MARKS}]")


class Token(NamedTuple):
    """A word of the text: its offsets and its surface form (a named tuple: the extractor makes millions)."""

    start: int
    end: int
    surface: str

    @property
    def is_capitalised(self) -> bool:
        return self.surface[:1].isupper()


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """Word tokens of ``text[start:end]`` with absolute offsets."""
    end = len(text) if end is None else end
    return [Token(m.start(), m.end(), m.group()) for m in WORD.finditer(text, start, end)]


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Sentence]:
    """Split ``text[start:end]`` into sentences; a line break always ends a sentence.

    Each non-empty line is a paragraph (news sites put one paragraph on a line).
    """
    end = len(text) if end is None else end
    sentences: list[Sentence] = []
    for paragraph, block in enumerate(re.finditer(r"[^\n]+", text[start:end])):
        b_start, b_end = start + block.start(), start + block.end()
        for s_start, s_end in _split_line(text, b_start, b_end):
            sentences.append(Sentence(len(sentences), s_start, s_end, paragraph, text[s_start:s_end]))
    return sentences


def _split_line(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    cursor = start
    for m in _SENTENCE_END.finditer(text, start, end):
        before = text[cursor:m.start()].rstrip("\"'»”)")
        last_word = re.findall(r"[\w.]+$", before)
        if last_word and last_word[0].rstrip(".").casefold() in _ABBREVIATIONS:
            continue
        if last_word and len(last_word[0].rstrip(".")) == 1 and last_word[0][0].isupper():
            continue  # an initial: "S. Lavrov"
        if m.end() < end and text[m.end()].islower():
            continue  # a sentence does not begin in lower case: "7:10 p.m. local time", "approx. two"
        spans.append((cursor, m.start()))
        cursor = m.end()
    spans.append((cursor, end))
    return [(a, b) for a, b in (_strip(text, a, b) for a, b in spans) if b > a]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@lru_cache(maxsize=500_000)
def fold(text: str) -> str:
    """Case-fold and normalise a string for comparison across spellings (keeps the script).

    >>> fold("Ёлка  ИЗ") == fold("елка из")
    True
    >>> fold("أَكَّدَ") == fold("اكد")
    True
    """
    text = unicodedata.normalize("NFC", text).casefold().replace("ё", "е")
    text = _ARABIC_MARKS_RE.sub("", text)
    text = text.translate(_ARABIC_LETTERS)
    return " ".join(text.split())


_ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})
