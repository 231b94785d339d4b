"""Personal names: base (nominative) forms, name-likeness, and comparison keys.

Russian names are put in the nominative with pymorphy3, using the case of the title word in
front of them ("с министром транспорта Нидалом Катамином" → "Нидал Катамин"); a token with
no parse in that case is indeclinable and kept as written ("Хуаном Карлосом Охеда" →
"Хуан Карлос Охеда"). Other languages keep names as written, minus clitics and possessives.

>>> nominative_ru(["Нидалом", "Мурди", "Абдулла", "Катамином"], "ablt")
['Нидал', 'Мурди', 'Абдулла', 'Катамин']
>>> nominative_ru(["Касым-Жомарта", "Токаева"], "gent")
['Касым-Жомарт', 'Токаев']
>>> nominative_ru(["Хуаном", "Карлосом", "Охеда"], None)
['Хуан', 'Карлос', 'Охеда']
>>> nominative_ru(["Тхейна", "Вина"], "gent")
['Тхейн', 'Вин']
>>> nominative_ru(["Владимира", "Путина"], None)
['Владимир', 'Путин']
>>> nominative_ru(["Марии", "Захаровой"], None)
['Мария', 'Захарова']
>>> nominative_ru(["Даниэлем", "Ортегой"], "ablt")
['Даниэль', 'Ортега']
"""

from __future__ import annotations

from functools import lru_cache

from kg.normalise import _morph

_NAME_TAGS = ("Name", "Surn", "Patr")
_CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct")
# A title word in the genitive may be an animate accusative ("принял посла ... Такаси Охару"): the name
# after it can be in either case.
_SAME_FORM = {"gent": ("accs",), "accs": ("gent",)}
# Case endings of a masculine name ending in a consonant ("Вин": "Вина", "Вину", "Вином", "Вине").
_MASCULINE_ENDINGS = {"gent": "а", "accs": "а", "datv": "у", "ablt": "ом", "loct": "е"}


@lru_cache(maxsize=100_000)
def _parses(word: str):
    try:
        return tuple(_morph().parse(word))
    except ValueError:  # letters pymorphy3 cannot analyse: no reading, the word is kept as written
        return ()


def is_name_like_ru(word: str) -> bool:
    """Could this capitalised Russian word be part of a personal name?"""
    if "-" in word:
        return all(is_name_like_ru(part) for part in word.split("-") if part and part[0].isupper()) or \
            word.split("-")[0].casefold() in {"аль", "эль", "ибн", "бен", "бин", "ван", "фон", "де"}
    parses = _parses(word)
    if not parses:
        return True
    if any(any(tag in p.tag for tag in (*_NAME_TAGS, "Geox")) for p in parses[:4]):
        return True
    known = [p for p in parses if p.is_known]
    return not known


@lru_cache(maxsize=50_000)
def is_finite_verb_ru(word: str) -> bool:
    """A known Russian word whose likeliest reading is a finite verb ("пригласил", "провел")."""
    parses = _parses(word.casefold())
    return bool(parses) and parses[0].is_known and parses[0].tag.POS == "VERB"


@lru_cache(maxsize=50_000)
def is_future_verb_ru(word: str) -> bool:
    """A known Russian verb form in the future tense ("выступит", "посетит"): what it tells is planned."""
    parses = _parses(word.casefold())
    return bool(parses) and parses[0].is_known and parses[0].tag.POS == "VERB" and parses[0].tag.tense == "futr"


def case_of_ru(word: str) -> str | None:
    """The most likely grammatical case of a title word ("министром" → "ablt")."""
    for parse in _parses(word.casefold()):
        if parse.tag.POS == "NOUN" and parse.tag.case in _CASES:
            return parse.tag.case
    return None


def _inflect_token(word: str, case: str | None) -> str:
    if "-" in word:
        parts = word.split("-")
        if parts[0].casefold() in {"аль", "эль", "ибн", "бен", "бин", "ван", "фон", "де"}:
            if case not in (None, "nomn") and len(parts) == 2 and parts[1][:1].isupper():
                base = _inflect_token(parts[1], case)
                if len(base) < len(parts[1]) and parts[1].casefold().startswith(base.casefold()):
                    # only a case ending taken off: "с послом Диябом аль-Лухом" -> "аль-Лух" ("аль-Хашими" stays)
                    return f"{parts[0]}-{base}"
            return word
        return "-".join(_inflect_token(p, case) if p[:1].isupper() else p for p in parts)
    if case is None and _own_nominative(word):
        return word
    if case in (None, "nomn"):
        candidates = [p for p in _parses(word) if p.tag.case and p.tag.case != "nomn"
                      and any(t in p.tag for t in _NAME_TAGS)] if case is None else []
        if case is None and candidates and not any(
            p.tag.case == "nomn" and any(t in p.tag for t in _NAME_TAGS) for p in _parses(word)
        ):
            return _restore_case(word, candidates[0].normal_form)
        if case is None:
            guessed = [p for p in _parses(word) if p.tag.case == "ablt" and p.tag.POS == "NOUN"]
            if guessed and word.casefold().endswith(("ом", "ем", "ым", "им")):
                return _restore_case(word, guessed[0].normal_form)
        return word
    cases = {case, *_SAME_FORM.get(case, ())}
    matching = [p for p in _parses(word) if p.tag.case in cases and p.tag.POS == "NOUN"]
    if not matching:
        return word
    declined = [p for p in matching if "Fixd" not in p.tag]
    named = [p for p in declined if any(t in p.tag for t in _NAME_TAGS)]
    chosen = (named or declined or matching)[0]  # a declined reading beats "indeclinable" ("Охару")
    ending = _MASCULINE_ENDINGS.get(chosen.tag.case or "")
    if not named and "neut" in chosen.tag and ending and word.casefold().endswith(ending) \
            and len(word) > len(ending) + 1:
        return word[: -len(ending)]  # no name is neuter: "Тхейна Вина" is "Тхейн Вин", not "вино"
    inflected = chosen.inflect({"nomn"})
    lemma = inflected.word if inflected else chosen.normal_form
    if "femn" in chosen.tag and "Surn" in chosen.tag and inflected:
        lemma = inflected.word
    return _restore_case(word, lemma)


def _own_nominative(word: str) -> bool:
    """A word the dictionary does not know that reads as a nominative of itself: a foreign name as
    written ("Цзиньпин"), whatever oblique guesses pymorphy3 adds ("Цзиньпина", gen. pl.)."""
    parses = _parses(word)
    return bool(parses) and not any(p.is_known for p in parses) and any(
        p.tag.case == "nomn" and p.normal_form == word.casefold() for p in parses[:3]
    )


def _restore_case(original: str, lemma: str) -> str:
    if "ё" in lemma and "ё" not in original.casefold():
        lemma = lemma.replace("ё", "е")  # the text's spelling: "Ортегой" -> "Ортега", not "Ортёга"
    if original.isupper() and len(original) > 1:
        return lemma.upper()
    return lemma[:1].upper() + lemma[1:] if original[:1].isupper() else lemma


def nominative_ru(words: list[str], case: str | None) -> list[str]:
    """Put the tokens of a Russian name in the nominative, given the case it was found in."""
    if case is None:
        case = _case_from_name([w for w in words if len(w.rstrip(".")) > 1]) or _case_of_given_name(words)
    return [_inflect_token(w, case) if len(w.rstrip(".")) > 1 else w for w in words]


@lru_cache(maxsize=50_000)
def _given_name_case(word: str) -> str | None:
    """The oblique case of a given name that has no nominative reading ("Владимира": gent)."""
    parses = [p for p in _parses(word) if "Name" in p.tag and "plur" not in p.tag]  # a person is one
    if any(p.tag.case == "nomn" for p in parses):
        return None
    oblique = [p.tag.case for p in parses if p.tag.case in _CASES]
    return oblique[0] if oblique else None


def _case_of_given_name(words: list[str]) -> str | None:
    """A name that opens with a given name in an oblique case is all in that case: the surname agrees
    ("Владимира Путина" is "Владимир Путин", though "Путина" also reads as a woman's nominative)."""
    first = next((w for w in words if len(w.rstrip(".")) > 1), None)
    if first is None or len(words) < 2 or "-" in first:
        return None
    case = _given_name_case(first)
    return case if case in ("gent", "accs", "datv", "ablt", "loct") else None


def _case_from_name(words: list[str]) -> str | None:
    """The case of a name with no title word before it: oblique only when no token can be nominative.

    Surnames in -ов/-ев/-ин also read as genitive plurals, so a name that can be nominative is kept.
    """
    cases: set[str] = set()
    for word in words:
        readings = [p for p in _parses(word)[:4] if p.tag.case]
        if not readings or any(p.tag.case == "nomn" for p in readings):
            return None
        named = [p for p in readings if any(t in p.tag for t in ("Name", "Surn"))]
        cases.add((named or readings)[0].tag.case)
    return cases.pop() if len(cases) == 1 else None
