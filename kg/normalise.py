"""Per-language match keys: what a token is compared as when lexicons are matched.

The same normaliser turns lexicon words and text tokens into keys, so data files can be
written in natural base forms (see ``kg/data/README.md``). A language without a special
normaliser gets case-folding only.

>>> sorted(token_keys("ar", "والإرهاب"))
['ارهاب', 'الارهاب', 'والارهاب']
>>> lexicon_key("ar", "الإرهاب")
'ارهاب'
>>> "министр" in token_keys("ru", "министром")
True
>>> lexicon_key("ru", "министра")
'министр'
>>> token_keys("en", "Borg’s")
frozenset({'borg'})
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from kg.text import fold

_AR_CONJUNCTIONS = ("و", "ف")
_AR_PREPOSITIONS = ("ب", "ل", "ك")


def _arabic_variants(word: str) -> set[str]:
    """Every reading of an Arabic token with its proclitics removed (keeps 2+ letters)."""
    variants = {word}
    frontier = {word}
    for prefixes in (_AR_CONJUNCTIONS, _AR_PREPOSITIONS):
        nxt = set()
        for w in frontier:
            for p in prefixes:
                if w.startswith(p) and len(w) - len(p) >= 3:
                    nxt.add(w[len(p):])
        variants |= nxt
        frontier |= nxt
    for w in list(variants):
        if w.startswith("لل") and len(w) >= 4:
            variants.add(w[2:])
            variants.add("ال" + w[2:])
    for w in list(variants):
        if w.startswith("ال") and len(w) >= 4:
            variants.add(w[2:])
    return variants


def _arabic_lexicon_key(word: str) -> str:
    return word[2:] if word.startswith("ال") and len(word) >= 4 else word


@lru_cache(maxsize=1)
def _morph():
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="ru")


@lru_cache(maxsize=200_000)
def _russian_lemmas(word: str) -> tuple[str, ...]:
    if not any("а" <= ch <= "я" for ch in word):
        return ()
    try:
        parses = _morph().parse(word)
    except ValueError:  # pymorphy3 cannot analyse some letters (it asks unicodedata for their names)
        return ()
    seen: list[str] = []
    for parse in parses[:4]:
        lemma = parse.normal_form.replace("ё", "е")
        if lemma not in seen:
            seen.append(lemma)
    return tuple(seen)


def _strip_possessive(word: str) -> str:
    for suffix in ("'s", "’s"):
        if word.endswith(suffix):
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=400_000)
def token_keys(lang: str, surface: str) -> frozenset[str]:
    """All keys a text token can match as (surface form first, then readings)."""
    word = fold(surface)
    if lang == "ar":
        return frozenset(_arabic_variants(word))
    if lang == "ru":
        return frozenset({word, *_russian_lemmas(word)})
    if lang == "en":
        return frozenset({_strip_possessive(word)})
    return frozenset({word})


@lru_cache(maxsize=100_000)
def lexicon_key(lang: str, word: str) -> str:
    """The single key a lexicon word is stored as."""
    folded = fold(word)
    if lang == "ar":
        return _arabic_lexicon_key(folded)
    if lang == "ru":
        lemmas = _russian_lemmas(folded)
        if folded in lemmas:
            return folded  # a base form already ("ливан", not the top parse's "ливана")
        return lemmas[0] if lemmas else folded
    if lang == "en":
        return _strip_possessive(folded)
    return folded


@lru_cache(maxsize=400_000)
def prefix_forms(lang: str, surface: str) -> frozenset[str]:
    """The forms a prefix stem (``word*``) is compared with."""
    return token_keys(lang, surface) | {fold(surface)}


# Case endings a Russian noun the dictionary does not know can take ("Сиань" -> "Сиане", "Сианем").
_RU_ENDINGS = frozenset({"", "а", "я", "у", "ю", "е", "и", "ы", "ой", "ей", "ом", "ем", "ью", "ам", "ям", "ах", "ях"})
_RU_ADJECTIVE_ENDINGS = frozenset({
    "ий", "ый", "ой", "ая", "яя", "ое", "ее", "ие", "ые", "ого", "его", "ому", "ему", "ым", "им", "ом", "ем",
    "ую", "юю", "ей", "ых", "их", "ыми", "ими",
})


def unknown_proper_noun(lang: str, word: str) -> tuple[str, frozenset[str]] | None:
    """(stem, endings) for a capitalised Russian word pymorphy3 does not know, so its inflected forms
    match: "Сиань" gives stem "сиан" and matches "Сиане"; known words go through lemmas instead.

    >>> unknown_proper_noun("ru", "Сиань")[0]
    'сиан'
    >>> unknown_proper_noun("ru", "Москва") is None
    True
    >>> "о" in unknown_proper_noun("ru", "Сараево")[1]
    True
    """
    if lang != "ru" or not word[:1].isupper() or len(word) < 4 or " " in word or "-" in word:
        return None
    try:
        if _morph().word_is_known(word.casefold()):
            return None
    except ValueError:
        return None
    folded = fold(word)
    if folded[-2:] in _RU_ADJECTIVE_ENDINGS:
        return folded[:-2], _RU_ADJECTIVE_ENDINGS
    if folded[-1] in "аяеиоуыьй":
        return folded[:-1], _RU_ENDINGS | {folded[-1]}
    return folded, _RU_ENDINGS


KeyFunction = Callable[[str, str], frozenset[str]]
