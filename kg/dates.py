"""Dates in text: absolute (ISO, numeric, "12 марта 2026", "26/أغسطس/2023", "June 26, 2024"),
partial ("в декабре", "December" with no year), and relative ("вчера", "أمس", "on Tuesday").

Month and weekday names come from CLDR through Babel for every locale a language profile
lists, plus the profile's ``extra_months``; relative words come from the profile.

>>> ref = PartialDate(2023, 8, 26)
>>> [m.resolve(ref).iso() for m in find_dates("ar", "بالأمس، عقد اجتماعًا")]
['2023-08-25']
>>> [m.resolve(None) for m in find_dates("ru", "Астана. 12 марта.")]
[None]
>>> [m.resolve(PartialDate(2026, 3, 12)).iso() for m in find_dates("ru", "Астана. 12 марта.")]
['2026-03-12']
>>> [m.resolve(None).iso() for m in find_dates("en", "on June 26, 2024 and 2024-06-27")]
['2024-06-26', '2024-06-27']
>>> [m.resolve(None).iso() for m in find_dates("ar", "السبت 26/أغسطس/2023 - 05:05 م")]
['2023-08-26']
>>> [m.resolve(None).iso() for m in find_dates("mk", "11 АВГУСТ 2023")]
['2023-08-11']
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from functools import cache

from babel import Locale

from kg.lexicon import Lexicon
from kg.model import PartialDate
from kg.text import Token, fold, tokenize

_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_NUMERIC = re.compile(r"(?<![\d.])(\d{1,2})[./](\d{1,2})[./](\d{4})(?!\d)")
_YEAR = re.compile(r"^(1[89]\d\d|2[01]\d\d)$")
_DAY = re.compile(r"^(0?[1-9]|[12]\d|3[01])$")


@dataclass(frozen=True)
class DateMention:
    """A date expression found in text, not yet resolved against a reference date."""

    start: int
    end: int
    text: str
    year: int | None = None
    month: int | None = None
    day: int | None = None
    relative_days: int | None = None
    weekday: int | None = None

    @property
    def is_relative(self) -> bool:
        return self.relative_days is not None or self.weekday is not None

    def resolve(self, reference: PartialDate | None) -> PartialDate | None:
        """The calendar date this expression denotes, or ``None`` when the text does not say.

        A month without a year takes the reference's year (the latest such month not after
        the reference); relative expressions need a reference with day precision.
        """
        if self.relative_days is not None or self.weekday is not None:
            ref = reference.to_date() if reference else None
            if ref is None:
                return None
            try:  # a reference at the ends of the calendar ("0001-01-01" and "yesterday") has no neighbour
                if self.relative_days is not None:
                    return PartialDate.from_date(ref + _dt.timedelta(days=self.relative_days))
                back = (ref.weekday() - self.weekday) % 7
                return PartialDate.from_date(ref - _dt.timedelta(days=back))
            except OverflowError:
                return None
        if self.year is not None:
            return _safe(self.year, self.month, self.day)
        if self.month is not None and reference is not None:
            year = reference.year
            if reference.month is not None and self.month > reference.month:
                year -= 1
            return _safe(year, self.month, self.day)
        return None


def _safe(year: int, month: int | None, day: int | None) -> PartialDate | None:
    try:
        return PartialDate(year, month, day if month else None)
    except ValueError:
        return None


@cache
def _month_lexicon(lang: str) -> Lexicon:
    from kg.lang import profile

    prof = profile(lang)
    names: dict[str, set[str]] = {}
    for locale_id in prof.get("cldr_locales", [lang]):
        locale = Locale.parse(locale_id)
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in locale.months[context][width].items():
                    name = name.rstrip(".")
                    if len(fold(name)) >= 3:
                        names.setdefault(str(number), set()).add(name)
    for number, extra in (prof.get("extra_months") or {}).items():
        names.setdefault(str(number), set()).update(extra)
    return Lexicon.build(lang, {k: sorted(v) for k, v in names.items()})


@cache
def _weekday_lexicon(lang: str) -> Lexicon:
    from kg.lang import profile

    names: dict[str, set[str]] = {}
    for locale_id in profile(lang).get("cldr_locales", [lang]):
        locale = Locale.parse(locale_id)
        for context in ("format", "stand-alone"):
            for number, name in locale.days[context]["wide"].items():
                names.setdefault(str(number), set()).add(name)
    return Lexicon.build(lang, {k: sorted(v) for k, v in names.items()})


@cache
def _relative_lexicon(lang: str) -> Lexicon:
    from kg.lang import profile

    words = profile(lang).get("relative_days") or {}
    return Lexicon.build(lang, {str(offset): [] for offset in set(words.values())} | _invert(words))


def _invert(words: dict[str, int]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for phrase, offset in words.items():
        out.setdefault(str(offset), []).append(phrase)
    return out


def find_dates(lang: str, text: str, start: int = 0, end: int | None = None) -> list[DateMention]:
    """Every date expression in ``text[start:end]``, in text order, without overlaps."""
    end = len(text) if end is None else end
    found: list[DateMention] = []
    for m in _ISO.finditer(text, start, end):
        found.append(DateMention(m.start(), m.end(), m.group(), int(m[1]), int(m[2]), int(m[3])))
    for m in _NUMERIC.finditer(text, start, end):
        day, month = int(m[1]), int(m[2])
        if month > 12 and day <= 12:
            day, month = month, day
        if 1 <= month <= 12:
            found.append(DateMention(m.start(), m.end(), m.group(), int(m[3]), month, day))
    tokens = tokenize(text, start, end)
    found.extend(_month_dates(lang, text, tokens))
    for match in _relative_lexicon(lang).find(tokens, text):
        found.append(DateMention(match.char_start, match.char_end, match.text, relative_days=int(match.label)))
    for match in _weekday_lexicon(lang).find(tokens, text):
        weekday = {"0": 0, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6}[match.label]
        found.append(DateMention(match.char_start, match.char_end, match.text, weekday=weekday))
    return _without_weekday_labels(_without_overlaps(found), text)


def _without_weekday_labels(mentions: list[DateMention], text: str) -> list[DateMention]:
    """Drop a weekday written next to a full date ("السبت 26/أغسطس/2023", "Tuesday, 5 March")."""
    out = []
    for i, m in enumerate(mentions):
        if m.weekday is not None:
            neighbours = [n for n in (mentions[i - 1] if i else None, mentions[i + 1] if i + 1 < len(mentions)
                                      else None) if n is not None and n.month is not None]
            if any(re.fullmatch(r"[\s,،]{0,3}", text[min(m.end, n.end):max(m.start, n.start)])
                   for n in neighbours):
                continue
        out.append(m)
    return out


def _month_dates(lang: str, text: str, tokens: list[Token]) -> list[DateMention]:
    out = []
    matches = _month_lexicon(lang).find(tokens, text)
    for match in matches:
        month = int(match.label)
        first, last = match.start, match.end
        day = year = None
        if first > 0 and _DAY.match(tokens[first - 1].surface) and _adjacent(text, tokens[first - 1], tokens[first]):
            day = int(tokens[first - 1].surface)
            first -= 1
        if last < len(tokens) and _adjacent(text, tokens[last - 1], tokens[last]):
            nxt = tokens[last].surface
            if day is None and _DAY.match(nxt):
                day = int(nxt)
                last += 1
                if last < len(tokens) and _YEAR.match(tokens[last].surface) and _adjacent(
                    text, tokens[last - 1], tokens[last]
                ):
                    year = int(tokens[last].surface)
                    last += 1
            elif _YEAR.match(nxt):
                year = int(nxt)
                last += 1
        if year is not None and last < len(tokens) and fold(tokens[last].surface) in _year_words(lang) \
                and re.fullmatch(r"\s{1,2}", text[tokens[last - 1].end : tokens[last].start]):
            last += 1  # "22 ноября 2024 г.", "10 април 2025 година": the year's word belongs to the date
        out.append(
            DateMention(tokens[first].start, tokens[last - 1].end, text[tokens[first].start : tokens[last - 1].end],
                        year, month, day)
        )
    return _merge_month_pairs(out, text)


@cache
def _year_words(lang: str) -> frozenset[str]:
    from kg.lang import profile

    return frozenset(fold(w) for w in profile(lang).get("year_words", []))


def _adjacent(text: str, left: Token, right: Token) -> bool:
    """Two tokens belong to one date when only spaces, commas, slashes or dots separate them."""
    return re.fullmatch(r"[\s,./\-]{1,3}", text[left.end : right.start]) is not None


def _merge_month_pairs(mentions: list[DateMention], text: str) -> list[DateMention]:
    """"ديسمبر/كانون الأول", "август (авг.)": two names of one month written side by side."""
    out: list[DateMention] = []
    for m in mentions:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.month == m.month
            and re.fullmatch(r"[\s/()-]{1,3}", text[prev.end : m.start])
        ):
            out[-1] = DateMention(
                prev.start, m.end, text[prev.start : m.end],
                prev.year or m.year, prev.month, prev.day or m.day,
            )
        else:
            out.append(m)
    return out


def _without_overlaps(mentions: list[DateMention]) -> list[DateMention]:
    ordered = sorted(mentions, key=lambda m: (m.start, -(m.end - m.start)))
    out: list[DateMention] = []
    for m in ordered:
        if out and m.start < out[-1].end:
            continue
        out.append(m)
    return out


def years_in(text: str) -> list[int]:
    """Four-digit years written in ``text`` (1800–2199)."""
    return [int(y) for y in re.findall(r"(?<!\d)(1[89]\d\d|2[01]\d\d)(?!\d)", text)]
