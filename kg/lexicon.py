"""Phrase lexicons matched against tokens: longest match wins and consumes its tokens.

>>> lex = Lexicon.build("mk", {"trade": ["трговија"], "human-trafficking": ["трговиј* со луѓе"]})
>>> from kg.text import tokenize
>>> [(m.label, m.text) for m in lex.find(tokenize("борба против трговијата со луѓе и трговија"))]
[('human-trafficking', 'трговијата со луѓе'), ('trade', 'трговија')]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kg.normalise import lexicon_key, prefix_forms, token_keys, unknown_proper_noun
from kg.text import Token, fold

#: Surfaces whose candidate phrases one lexicon remembers (then it starts over): bounds memory on long runs.
_CANDIDATE_CACHE_SIZE = 50_000
_NO_CANDIDATES: tuple[tuple, tuple] = ((), ())


@dataclass(frozen=True)
class _Word:
    key: str
    prefix: bool
    case_sensitive: bool = False
    endings: frozenset[str] | None = None  # an unknown proper noun: its stem plus one of these endings


@dataclass(frozen=True)
class Phrase:
    label: str
    words: tuple[_Word, ...]
    source: str


@dataclass(frozen=True)
class Match:
    label: str
    start: int  # token index
    end: int  # token index, exclusive
    char_start: int
    char_end: int
    text: str
    phrase: str


class Lexicon:
    """A set of labelled phrases for one language."""

    def __init__(self, lang: str, phrases: Iterable[Phrase]):
        self.lang = lang
        self.phrases = list(phrases)
        self._by_first: dict[str, list[Phrase]] = defaultdict(list)
        self._prefix_first: dict[str, list[Phrase]] = defaultdict(list)
        self._stem_first: dict[str, list[Phrase]] = defaultdict(list)
        self._candidate_cache: dict[str, tuple[tuple[Phrase, ...], tuple[Phrase, ...]]] = {}
        for phrase in self.phrases:
            first = phrase.words[0]
            if first.endings is not None:
                self._stem_first[first.key].append(phrase)
            elif first.prefix:
                self._prefix_first[first.key[:2]].append(phrase)
            else:
                self._by_first[first.key].append(phrase)

    @classmethod
    def build(
        cls, lang: str, entries: Mapping[str, Sequence[str]], case_sensitive: bool = False
    ) -> Lexicon:
        phrases = []
        for label, texts in entries.items():
            for text in texts or ():
                words = tuple(_parse_word(lang, w, case_sensitive) for w in str(text).split())
                if words:
                    phrases.append(Phrase(label, words, str(text)))
        return cls(lang, phrases)

    def merged(self, other: Lexicon) -> Lexicon:
        return Lexicon(self.lang, [*self.phrases, *other.phrases])

    def _word_matches(self, word: _Word, token: Token) -> bool:
        if word.case_sensitive:
            return token.surface == word.key or token.surface.rstrip("’'s") == word.key
        if word.prefix:
            return any(form.startswith(word.key) for form in prefix_forms(self.lang, token.surface))
        if word.endings is not None:
            surface = fold(token.surface)
            return surface.startswith(word.key) and surface[len(word.key):] in word.endings
        return word.key in token_keys(self.lang, token.surface)

    def _candidates(self, token: Token) -> list[Phrase]:
        found: list[Phrase] = []
        if self._prefix_first:
            for head in {form[:2] for form in prefix_forms(self.lang, token.surface)}:
                found.extend(self._prefix_first.get(head, ()))
        for key in token_keys(self.lang, token.surface):
            found.extend(self._by_first.get(key, ()))
        found.extend(self._by_first.get(token.surface, ()))
        if self._stem_first:
            surface = fold(token.surface)
            for size in range(max(1, len(surface) - 4), len(surface) + 1):
                found.extend(self._stem_first.get(surface[:size], ()))
        return found

    def _candidates_of(self, surface: str) -> tuple[tuple[Phrase, ...], tuple[Phrase, ...]]:
        """(single-word phrases matching ``surface``, longer phrases whose first word matches it),
        memoised per surface: a corpus repeats a few thousand tokens millions of times."""
        cached = self._candidate_cache.get(surface)
        if cached is None:
            token = Token(0, len(surface), surface)
            single: list[Phrase] = []
            longer: list[Phrase] = []
            seen: set[int] = set()
            for phrase in self._candidates(token):
                if id(phrase) in seen or not self._word_matches(phrase.words[0], token):
                    continue
                seen.add(id(phrase))
                (single if len(phrase.words) == 1 else longer).append(phrase)
            if len(self._candidate_cache) >= _CANDIDATE_CACHE_SIZE:
                self._candidate_cache.clear()
            cached = (tuple(single), tuple(longer)) if single or longer else _NO_CANDIDATES
            self._candidate_cache[surface] = cached
        return cached

    def match_at(self, tokens: Sequence[Token], i: int) -> list[tuple[Phrase, int]]:
        """Every phrase matching at token ``i`` with its end index."""
        single, longer = self._candidates_of(tokens[i].surface)
        out = [(phrase, i + 1) for phrase in single]
        for phrase in longer:
            n = len(phrase.words)
            if i + n <= len(tokens) and all(
                self._word_matches(phrase.words[k], tokens[i + k]) for k in range(1, n)
            ):
                out.append((phrase, i + n))
        return out

    def find(self, tokens: Sequence[Token], text: str | None = None) -> list[Match]:
        """Non-overlapping matches, scanning left to right, longest phrase first."""
        matches: list[Match] = []
        cache = self._candidate_cache
        i = 0
        n = len(tokens)
        while i < n:
            candidates = cache.get(tokens[i].surface)
            if candidates is None:
                candidates = self._candidates_of(tokens[i].surface)
            if candidates is _NO_CANDIDATES:
                i += 1
                continue
            options = self.match_at(tokens, i)
            if not options:
                i += 1
                continue
            phrase, end = max(options, key=lambda o: (o[1], -len(o[0].source), o[0].label))
            span_text = (
                text[tokens[i].start : tokens[end - 1].end]
                if text is not None
                else " ".join(t.surface for t in tokens[i:end])
            )
            matches.append(
                Match(phrase.label, i, end, tokens[i].start, tokens[end - 1].end, span_text, phrase.source)
            )
            i = end
        return matches


def _parse_word(lang: str, word: str, case_sensitive: bool) -> _Word:
    if case_sensitive:
        return _Word(word, prefix=False, case_sensitive=True)
    if word.endswith("*") and len(word) > 1:
        stem = fold(word[:-1])
        if lang == "ar":
            stem = lexicon_key(lang, stem)
        return _Word(stem, prefix=True)
    unknown = unknown_proper_noun(lang, word)
    if unknown is not None:
        return _Word(unknown[0], prefix=False, endings=unknown[1])
    return _Word(lexicon_key(lang, word), prefix=False)
