"""Mentions in a sentence: states, organisations, cities, titles and persons.

Persons are found for names never seen before, from how each language writes them:
after a title ("посол Казахстана в Египте X", "وزير الخارجية الكازاخي X", "Foreign Minister X"),
after an honorific, right after a meeting word or "with" ("met with X Y", "اجتماع مع X"),
by morphology (Russian), and by reference back to a name already found in the article.
Every rule reads the language's data files; nothing here names a language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache

from kg.lang import LanguageData, flag, language, profile
from kg.lexicon import Lexicon, Match
from kg.model import Mention, PersonName, Role, Sentence
from kg.names import case_of_ru, is_finite_verb_ru, is_future_verb_ru, is_name_like_ru, nominative_ru
from kg.normalise import token_keys
from kg.registry import acronym_lexicon, entity_lexicon
from kg.text import Token, fold, tokenize

_QUOTES = [("«", "»"), ("“", "”"), ("„", "“"), ('"', '"')]
_HARD_STOP = re.compile(r"[.;:!?؟؛]")
_ARABIC_MARKS = re.compile("[\u064b-\u0652]")
MAX_TAIL = 25


@dataclass
class SentenceParse:
    sentence: Sentence
    tokens: list[Token]
    entities: list[Match] = field(default_factory=list)
    titles: list[Match] = field(default_factory=list)
    honorifics: list[Match] = field(default_factory=list)
    triggers: list[Match] = field(default_factory=list)
    planned: list[Match] = field(default_factory=list)
    mention_only: list[Match] = field(default_factory=list)
    settings: list[Match] = field(default_factory=list)  # "на полях", "on the sidelines of": a session as setting
    sequence: list[Match] = field(default_factory=list)  # "later that day", "потоа": the previous meeting's day
    non_meetings: list[Match] = field(default_factory=list)  # "press conference": a meeting word, no meeting
    delegation: list[Match] = field(default_factory=list)
    place_nouns: list[Match] = field(default_factory=list)
    institutions: list[Match] = field(default_factory=list)
    locatives: set[int] = field(default_factory=set)
    with_words: set[int] = field(default_factory=set)
    org_links: set[int] = field(default_factory=set)
    quoted: set[int] = field(default_factory=set)
    persons: list[Mention] = field(default_factory=list)
    agents: list[Mention] = field(default_factory=list)
    #: titles that name nobody here ("the Russian minister met ...", "Претседателката ја прими ..."):
    #: (token start, token end, role); the extractor links them to a person introduced earlier.
    bare_titles: list[tuple[int, int, Role]] = field(default_factory=list)
    #: (token index, first) -> whether the token can be part of a name, whatever was taken since: shared by
    #: both person passes over the sentence.
    name_token_memo: dict[tuple[int, bool], bool] = field(default_factory=dict, repr=False, compare=False)


def _non_overlapping(*groups: list[Match]) -> list[Match]:
    """Merge match lists, longer spans first, dropping anything that overlaps a kept match."""
    every = sorted((m for g in groups for m in g), key=lambda m: (-(m.end - m.start), m.start))
    kept: list[Match] = []
    taken: set[int] = set()
    for m in every:
        span = set(range(m.start, m.end))
        if span & taken:
            continue
        kept.append(m)
        taken |= span
    return sorted(kept, key=lambda m: m.start)


def _indices(matches: list[Match]) -> set[int]:
    return {i for m in matches for i in range(m.start, m.end)}


def _quoted_tokens(text: str, tokens: list[Token], start: int, end: int) -> set[int]:
    """Tokens between a pair of quotation marks inside ``text[start:end]``."""
    ranges = []
    for left, right in _QUOTES:
        pos = start
        while True:
            a = text.find(left, pos, end)
            if a < 0:
                break
            b = text.find(right, a + 1, end)
            if b < 0:
                break
            ranges.append((a, b))
            pos = b + 1
    return {i for i, t in enumerate(tokens) if any(a < t.start < b for a, b in ranges)}


def parse_sentence(doc_text: str, sentence: Sentence, lang: str) -> SentenceParse:
    """Registry entities, titles and meeting cues of one sentence (persons come later)."""
    data = language(lang)
    tokens = tokenize(doc_text, sentence.start, sentence.end)
    p = SentenceParse(sentence, tokens)
    p.entities = _non_overlapping(
        entity_lexicon(lang).find(tokens, doc_text), acronym_lexicon().find(tokens, doc_text)
    )
    p.entities = [m for m in p.entities if not _inside_other_name(m, tokens, data, doc_text)]
    taken = _indices(p.entities)
    titles = _non_overlapping(
        data.titles.find(tokens, doc_text), _find(data.meetings.get("counterparts"), tokens, doc_text)
    )
    p.titles = [m for m in titles if not set(range(m.start, m.end)) & taken
                and not _function_word_title(m, tokens, data)]
    p.honorifics = data.honorifics.find(tokens, doc_text)
    meetings = data.meetings
    # "none": phrases with a meeting word that report no meeting ("беседа с журналистами"); they only
    # consume their tokens.
    found = _find(meetings.get("triggers"), tokens, doc_text)
    p.triggers = [m for m in found if m.label != "none"]
    p.non_meetings = [m for m in found if m.label == "none"]
    p.settings = _find(meetings.get("settings_of_meetings"), tokens, doc_text)
    p.sequence = _find(meetings.get("sequence"), tokens, doc_text)
    p.planned = _find(meetings.get("planned"), tokens, doc_text)
    if data.settings.get("morphology") == "pymorphy3":  # future tense read from the verb form ("выступит")
        p.planned = sorted([*p.planned, *(
            Match("planned", i, i + 1, t.start, t.end, t.surface, "future tense") for i, t in enumerate(tokens)
            if t.surface[:1].islower() and is_future_verb_ru(t.surface)
        )], key=lambda m: m.start)
    p.mention_only = _find(meetings.get("mention_only"), tokens, doc_text)
    p.delegation = _find(meetings.get("delegation"), tokens, doc_text)
    p.place_nouns = _find(meetings.get("place_nouns"), tokens, doc_text)
    p.institutions = _find(meetings.get("institutions"), tokens, doc_text)
    p.locatives = _indices(_find(meetings.get("locatives"), tokens, doc_text))
    p.with_words = _indices(_find(meetings.get("with_words"), tokens, doc_text))
    p.org_links = _indices(_find(meetings.get("org_links"), tokens, doc_text))
    p.quoted = _quoted_tokens(doc_text, tokens, sentence.start, sentence.end)
    return p


def _function_word_title(m: Match, tokens: list[Token], data: LanguageData) -> bool:
    """A one-word title read into a function word through its lemma ("После" -> "посол")."""
    if m.end - m.start != 1:
        return False
    surface = fold(tokens[m.start].surface)
    # the phrase's own keys: in Arabic "سفير" is "السفير" without its article, not another word
    return surface in data.stopwords and surface not in token_keys(data.code, m.phrase) | {fold(m.phrase)}


def _inside_other_name(m: Match, tokens: list[Token], data: LanguageData, text: str) -> bool:
    """A Latin acronym that begins a longer Latin name inside text in another script ("EU Reporter" in an
    Arabic article) is not the organisation."""
    label = m.label.split(":")[0]
    if label != "org" or not m.text.isupper() or not m.text.isascii() or m.end >= len(tokens):
        return False
    if str(profile(data.code).get("script", "")).lower() == "latin":
        return False
    nxt = tokens[m.end]
    if not nxt.is_capitalised or not nxt.surface.isascii() or nxt.surface.isupper():
        return False
    if text[tokens[m.end - 1].end : nxt.start] != " ":
        return False
    known = data.titles.match_at(tokens, m.end) or data.meetings.get("institutions") and \
        data.meetings["institutions"].match_at(tokens, m.end)
    return not known


def _find(lexicon: Lexicon | None, tokens: list[Token], text: str) -> list[Match]:
    return lexicon.find(tokens, text) if lexicon else []


# --- persons -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FinderSettings:
    """What the person finder reads from a language's settings, read once per language."""

    capitalised: bool
    max_tokens: int
    compound_heads: frozenset[str]
    lowercase_tail: bool
    apposition_without_comma: bool  # a title right after a name, without a comma, describes that person
    title_links: frozenset[str]
    non_name_patterns: tuple[re.Pattern, ...]
    clause_words: frozenset[str]
    names_after_title: frozenset[str]


@cache
def _finder_settings(lang: str) -> _FinderSettings:
    settings = language(lang).settings

    def words(key: str) -> frozenset[str]:
        return frozenset(fold(w) for w in settings.get(key, []))

    return _FinderSettings(
        capitalised=flag(settings.get("capitalised_names"), True),
        max_tokens=int(settings.get("max_name_tokens", 4)),
        compound_heads=words("compound_name_heads"),
        lowercase_tail=flag(settings.get("lowercase_title_tail"), True),
        apposition_without_comma=flag(settings.get("apposition_without_comma"), False),
        title_links=words("title_links"),
        non_name_patterns=tuple(re.compile(p) for p in settings.get("non_name_patterns", [])),
        clause_words=words("clause_words"),
        names_after_title=words("names_after_title"),
    )


class _PersonFinder:
    def __init__(self, doc_text: str, parse: SentenceParse, lang: str):
        self.text = doc_text
        self.p = parse
        self.lang = lang
        self.data: LanguageData = language(lang)
        settings = _finder_settings(lang)
        self.capitalised = settings.capitalised
        self.max_tokens = settings.max_tokens
        self.compound_heads = settings.compound_heads
        self.tokens = parse.tokens
        self.entity_at = {i: m for m in parse.entities for i in range(m.start, m.end)}
        self.title_at = {i: m for m in parse.titles for i in range(m.start, m.end)}
        self.institution_at = _indices(parse.institutions)
        self.honorific_at = _indices(parse.honorifics)
        self.blocked = (
            set(self.entity_at) | set(self.title_at) | _indices(parse.honorifics) | _indices(parse.triggers)
            | _indices(parse.non_meetings)
            | parse.with_words | parse.locatives | _indices(parse.institutions) | _indices(parse.delegation)
            | _indices(parse.planned) | _indices(parse.mention_only)
        )
        self.lowercase_tail = settings.lowercase_tail
        self.apposition_without_comma = settings.apposition_without_comma
        self.title_links = settings.title_links
        self.non_name_patterns = settings.non_name_patterns
        self.clause_words = settings.clause_words
        self.names_after_title = settings.names_after_title
        self.after_place_noun = {m.end for m in parse.place_nouns if m.start not in self.title_at}
        self.taken: set[int] = set()
        self.morphology = self.data.settings.get("morphology")

    # token classes
    def is_stopword(self, i: int) -> bool:
        keys = token_keys(self.lang, self.tokens[i].surface)
        return bool(keys & self.data.stopwords)

    def is_particle(self, i: int) -> bool:
        return bool(token_keys(self.lang, self.tokens[i].surface) & self.data.name_particles)

    def _blocked_later_in_run(self, j: int) -> int | None:
        """The last institution/entity word in the capitalised run starting at ``j``, if any."""
        if not self.capitalised:
            return None
        last = None
        k = j + 1
        while k < len(self.tokens) and self.tokens[k].is_capitalised and self.gap(k).strip() in ("", "-"):
            if k in self.blocked and k not in self.title_at:
                last = k
            k += 1
        if last is not None and last in self.entity_at:
            last = self.entity_at[last].end - 1
        return last

    def _continues_name(self, i: int) -> bool:
        """A capitalised common word after a given name is the surname ("Ингрид Холм", "Петер Ковач")."""
        tok = self.tokens[i]
        return (
            self.lang == "ru" and tok.is_capitalised and i not in self.blocked and i not in self.taken
            and i not in self.p.quoted and not self.is_stopword(i) and not tok.surface.isupper()
        )

    def _before_name(self, i: int) -> bool:
        """A capitalised word right before a clearly name-like one belongs to the name."""
        j = i + 1
        if j >= len(self.tokens) or j in self.blocked or self.gap(j) != " ":
            return False
        nxt = self.tokens[j].surface
        return nxt[:1].isupper() and is_name_like_ru(nxt) and not self.is_stopword(j)

    def _article_surname(self, i: int) -> bool:
        folded = fold(self.tokens[i].surface)
        if not folded.startswith("ال") or len(folded) < 5 or i in self.blocked or i in self.taken:
            return False
        if self.is_stopword(i) or _ARABIC_MARKS.search(self.tokens[i].surface):
            return False
        return not any(p.search(k) for p in self.non_name_patterns for k in token_keys(self.lang, folded[2:]))

    def _particle_compound(self, surface: str) -> bool:
        head, _, rest = surface.partition("-")
        return bool(rest) and rest[:1].isupper() and bool(token_keys(self.lang, head) & self.data.name_particles)

    def gap(self, i: int) -> str:
        """Characters between token i-1 and token i."""
        return self.text[self.tokens[i - 1].end : self.tokens[i].start] if i > 0 else ""

    def _particle_before_name(self, i: int) -> bool:
        """A lower-case name particle right before a capitalised name word ("van Klaveren", "de Vries")."""
        tok = self.tokens[i]
        return tok.surface[:1].islower() and i + 1 < len(self.tokens) and self.gap(i + 1) == " " \
            and i not in self.taken and self.is_particle(i) and self.name_token(i + 1, first=False)

    def is_initial(self, i: int) -> bool:
        """A capital letter and a dot before a capitalised word: "С.В.Лавров", "С. Лавров", "J. Smith"."""
        tok = self.tokens[i]
        if not self.capitalised or len(tok.surface) != 1 or not tok.surface.isupper() or i + 1 >= len(self.tokens):
            return False
        return self.gap(i + 1) in (".", ". ") and self.tokens[i + 1].is_capitalised

    def _finite_verb(self, i: int) -> bool:
        """A finite verb ends a title's complement ("президент пригласил X" is not "президент X")."""
        return self.morphology == "pymorphy3" and is_finite_verb_ru(self.tokens[i].surface)

    def name_token(self, i: int, first: bool) -> bool:
        """Whether token ``i`` can be (the ``first``) part of a person's name here."""
        if i in self.taken:
            return False
        memo = self.p.name_token_memo
        verdict = memo.get((i, first))
        if verdict is None:
            verdict = memo[(i, first)] = self._name_token(i, first)
        return verdict

    def _capital_surname(self, i: int) -> bool:
        """An all-capital word next to a capitalised word that is not (a list of diplomats, Japanese and
        French usage), with nothing but a space between them."""
        surface = self.tokens[i].surface
        if not self.capitalised or len(surface) < 3 or not surface.isalpha() or not surface.isupper():
            return False
        for j in (i - 1, i + 1):
            if 0 <= j < len(self.tokens) and self.gap(max(i, j)) == " " and j not in self.blocked:
                other = self.tokens[j].surface
                if len(other) > 1 and other[:1].isupper() and other[1:].islower() and not self.is_stopword(j):
                    return True
        return False

    def _name_token(self, i: int, first: bool) -> bool:
        tok = self.tokens[i]
        if self.is_initial(i) and i not in self.entity_at and i not in self.title_at and i not in self.p.quoted \
                and i not in self.honorific_at:
            return True  # "С.В.Лавров": the initials are "с" and "в" (with, in) to the lexicons
        if i in self.blocked or i in self.p.quoted:
            return False
        if any(ch.isdigit() for ch in tok.surface) or _ARABIC_MARKS.search(tok.surface):
            return False  # numbers; Arabic words with case endings (names are written bare)
        if self._capital_surname(i):
            return True  # "KAMIKAWA Yoko", "Emmanuel MACRON": a surname in capitals beside a given name
        if tok.surface.isascii() and (sum(ch.isupper() for ch in tok.surface) >= 3 or not self.capitalised
                                      or tok.surface.isupper() and len(tok.surface) > 1):
            return False  # a Latin acronym ("KazISS"), or Latin inside a script without capitals
        if i in self.after_place_noun:
            return False
        if self.capitalised and self._particle_compound(tok.surface):
            return True  # "аль-Ахдаль", "al-Sabah", "van-Rompuy"
        if self.capitalised:
            if not tok.is_capitalised or (first and i - 1 in self.p.locatives):
                return False  # lower case, or a place after "in" ("консул в Сиане Жошыхан ...")
            if len(tok.surface) > 1 and tok.surface.isupper() and len(tok.surface) <= 6:
                return False  # an acronym
            if self.is_stopword(i):
                return False
            if i + 1 in self.institution_at and self.gap(i + 1) == " " and not self.tokens[i + 1].is_capitalised:
                return False  # "Државниот собор", "Хрватскиот сабор": the adjective of an institution's name
            if self.lang == "ru" and not is_name_like_ru(tok.surface):
                return self._before_name(i)  # "Хаканом Фиданом": a word that is also a common noun
            return True
        after_head = i > 0 and fold(self.tokens[i - 1].surface) in self.compound_heads
        second_part = after_head and not first
        if self.is_stopword(i) and not second_part and not (first and fold(tok.surface) in self.names_after_title
                                                            and i - 1 in self.title_at):
            return False  # after a head the word is the name's second part ("عبد الله": "الله" is not "له")
        folded = fold(tok.surface)
        if any(pattern.search(k) for pattern in self.non_name_patterns for k in token_keys(self.lang, tok.surface)):
            return False
        if folded.startswith("ال") and not after_head:
            return False
        if first and folded.startswith(("لل", "وال", "بال", "فال", "كال")):
            return False  # a clitic and the article begin a common noun (inside a name: "فالديز")
        return len(folded) >= 2

    def name_run(self, start: int) -> tuple[int, int] | None:
        """The name starting at token ``start`` (or None): consecutive name tokens, particles inside."""
        i = start
        count = 0
        while i < len(self.tokens) and count < self.max_tokens:
            if i > start and not re.fullmatch(r"[ \t\u00a0]+|-", self.gap(i) or " ") \
                    and not self.is_initial(i - 1):
                break
            after_head = fold(self.tokens[i - 1].surface) in self.compound_heads
            if not self.capitalised and i > start and not after_head and self._article_surname(i):
                i += 1  # "أيمن الصفدي": a surname with the article closes the name
                break
            if self.name_token(i, first=i == start) or (i > start and self._continues_name(i)):
                # heads ("بن", "عبد") and particles ("فان دير") are not counted against the name's length
                count += 0 if fold(self.tokens[i].surface) in self.compound_heads or (
                    i > start and self.is_particle(i)) else 1
                i += 1
                continue
            if (i > start or self.capitalised) and self.is_particle(i) and i + 1 < len(self.tokens) \
                    and self.gap(i + 1) == " " and self.name_token(i + 1, first=False):
                i += 1  # "Mark van Rutte", "أورسولا فون دير لاين": a particle inside a name is not counted
                continue
            break
        if i == start:
            return None
        while i - 1 > start and fold(self.tokens[i - 1].surface) in self.compound_heads:
            i -= 1
        return start, i

    def chain_end(self, title: Match) -> tuple[int | None, list[Match]]:
        """Walk forward from a title over its complement to where the name starts."""
        titles = [title]
        j = title.end
        while j < len(self.tokens) and j - title.end < MAX_TAIL:
            if _HARD_STOP.search(self.gap(j)) and not (j - 1 in self.honorific_at and self.gap(j).strip() == "."):
                return None, titles
            if j in self.title_at:
                title_here = self.title_at[j]
                if self.capitalised or not fold(self.tokens[j].surface).startswith("ل"):
                    titles.append(title_here)  # "للأمين العام" (of the Secretary-General) is a complement
                j = title_here.end
                continue
            if j in self.entity_at:
                j = self.entity_at[j].end
                continue
            if j in self.institution_at or j in self.honorific_at:
                j += 1
                continue
            if self.capitalised and self._particle_before_name(j):
                return j, titles  # "Minister van Klaveren": a lower-case particle begins the name
            if self.name_token(j, first=True):
                later = self._blocked_later_in_run(j)
                if later is None:
                    return j, titles
                j = later + 1  # "European Union Kaja Kallas": the name starts after the institution
                continue
            tok = self.tokens[j]
            if any(m.start == j for m in self.p.triggers) or self._finite_verb(j):
                return None, titles
            if self.capitalised:
                if re.search(r"['’]s$", tok.surface) or any(ch.isdigit() for ch in tok.surface):
                    return None, titles
                if not tok.is_capitalised and not self.lowercase_tail and fold(tok.surface) not in self.title_links:
                    return None, titles
                j += 1
                continue
            folded = fold(tok.surface)
            definite = folded.startswith(("ال", "لل", "وال", "بال", "فال", "كال"))
            if folded in self.clause_words or (
                self.is_stopword(j) and not definite and j not in self.p.locatives and j not in self.p.org_links
            ):
                if not (folded in self.names_after_title and j == title.end):
                    return None, titles
                return j, titles
            if j in self.p.locatives or j in self.p.org_links or any(
                k.startswith("ال") for k in token_keys(self.lang, tok.surface)
            ) or folded.startswith(("ال", "لل")):
                j += 1
                continue
            return None, titles
        return None, titles

    def roles_for(self, titles: list[Match], name_start: int) -> tuple[Role, ...]:
        roles = []
        for k, title in enumerate(titles):
            stop = titles[k + 1].start if k + 1 < len(titles) else name_start
            affiliation = self.affiliation_between(title.end, stop) or self.affiliation_before(title.start)
            text = self.text[title.char_start : self.tokens[stop - 1].end].strip(" ,-–—")
            key = None if title.label == "counterpart" else title.label
            if key == "head-of-state" and affiliation and affiliation.startswith("org:"):
                key = "head"  # "President of the Commission" heads an organisation, not a state
            roles.append(Role(key, text, affiliation))
        return tuple(roles)

    def affiliation_between(self, a: int, b: int) -> str | None:
        for m in self.p.entities:
            if a <= m.start < b and not m.label.startswith(("city:", "region:")):
                if m.start - 1 in self.p.locatives and m.label.startswith("state:"):
                    continue
                return m.label.replace("state-adj:", "state:")
        return None

    def affiliation_before(self, i: int) -> str | None:
        """"OSCE Chairperson", "Kazakh Foreign Minister": the entity right before a title — unless it is
        where the person is posted ("Представитель при ЮНЕСКО посол ...")."""
        m = self.entity_at.get(i - 1)
        if m and (m.start - 1 in self.p.org_links or m.start - 1 in self.p.locatives):
            return None
        if m and not m.label.startswith(("city:", "region:")) and not _HARD_STOP.search(self.gap(i)):
            return m.label.replace("state-adj:", "state:")
        return None

    def appositive_roles(self, end: int) -> tuple[tuple[Role, ...], int]:
        """Titles right after a name and a comma describe that person ("X, the Special Representative")."""
        if end >= len(self.tokens):
            return (), end
        if "," not in self.gap(end) and "،" not in self.gap(end) and not (
            self.apposition_without_comma and self.gap(end) == " " and end in self.title_at
        ):
            return (), end
        j = end
        titles = []
        while j < len(self.tokens) and j - end < 4:
            if j in self.p.with_words and j not in self.title_at:
                return (), end  # ", со кого претседателката разговараше": a clause with its own subject
            if j in self.title_at:
                title = self.title_at[j]
                nxt, chain = self.chain_end(title)
                if nxt is not None:
                    return (), end  # the title introduces somebody else
                titles = chain
                break
            j += 1
        if not titles:
            return (), end
        last = titles[-1].end
        limit = last
        stops = self.p.with_words | {m.start for m in self.p.triggers}
        if "," not in self.gap(end) and "،" not in self.gap(end):
            stops = stops | self.honorific_at | set(self.title_at)  # "X وزير الخارجية ... معالي Y وزير ..."
        while limit < len(self.tokens) and limit - last < MAX_TAIL and not _HARD_STOP.search(self.gap(limit)) \
                and "," not in self.gap(limit) and "،" not in self.gap(limit) and limit not in stops:
            limit += 1  # the post ends where the meeting's other party or verb begins ("... مع سفير ...")
        return self.roles_for(titles, limit), limit

    def make(
        self, start: int, end: int, roles: tuple[Role, ...], case_hint: str | None, how: str,
        chain_start: int | None = None,
    ) -> Mention:
        words = [self.tokens[i].surface + ("." if self.is_initial(i) else "") for i in range(start, end)]
        words = [re.sub(r"['’]s$", "", w) if self.lang == "en" else w for w in words]
        if self.lang == "ru":
            words = nominative_ru(words, case_hint)
        capitals = [w for w in words if len(w) > 2 and w.isalpha() and w.isupper()]
        if self.capitalised and capitals and len(capitals) < len(words):
            words = [w for w in words if w not in capitals] + [w.capitalize() for w in capitals]  # "KAMIKAWA Yoko"
        label = " ".join(words)
        surname_from = len(words) - 1
        while surname_from > 0 and fold(words[surname_from - 1]) in self.compound_heads:
            surname_from -= 1
        name = PersonName(label, tuple(words[:surname_from]), " ".join(words[surname_from:]))
        extra_roles, limit = self.appositive_roles(end)
        self.taken |= set(range(start, end))
        first = start if chain_start is None else chain_start
        before = self.entity_at.get(first - 1) if first > 0 and chain_start is not None else None
        if before is not None and before.start - 1 not in self.p.locatives:
            first = before.start  # "OSCE Chairperson-in-Office X", but not "В Египте посол X"
        return Mention(
            "person", self.tokens[start].start, self.tokens[end - 1].end,
            self.text[self.tokens[start].start : self.tokens[end - 1].end], self.p.sentence.index,
            name=name, roles=roles + extra_roles, context=how, token_start=start, token_end=end,
            role_span=(first, max(end, limit)),
        )

    def _bare_title(self, chain: list[Match]) -> None:
        """A title chain followed by no name, with the state or organisation it names nearby."""
        last = chain[-1]
        stop = last.end
        while stop < len(self.tokens) and stop - last.end < 3 and not _HARD_STOP.search(self.gap(stop)) \
                and stop not in self.p.with_words and not any(m.start == stop for m in self.p.triggers):
            stop += 1
        role = self.roles_for(chain, stop)[0] if chain else None
        if role is not None and role.key is not None and chain[0].start not in self.p.quoted:
            self.p.bare_titles.append((chain[0].start, last.end, role))

    def find(self, known: dict[str, PersonName]) -> list[Mention]:
        self.p.bare_titles = []
        found: list[Mention] = []
        consumed_titles: set[int] = set()
        for title in self.p.titles:
            if title.start in consumed_titles:
                continue
            start, chain = self.chain_end(title)
            consumed_titles |= {t.start for t in chain}
            if start is None:
                self._bare_title(chain)
                continue
            run = self.name_run(start)
            if run and run[1] - run[0] == 1 and run[1] < len(self.tokens) and self.gap(run[1]).strip() == ",":
                longer = self.name_run(run[1]) if self.name_token(run[1], first=True) else None
                if longer and longer[1] - longer[0] >= 2:
                    run = longer  # the single word was a place or an organisation
            if run:
                case = case_of_ru(self.tokens[chain[-1].start].surface) if self.lang == "ru" else None
                if self.lang == "ru":
                    case = self._title_case(chain) or case
                found.append(self.make(*run, self.roles_for(chain, run[0]), case, "title", chain[0].start))
        for honorific in self.p.honorifics:
            run = self.name_run(honorific.end) if honorific.end < len(self.tokens) else None
            if run:
                found.append(self.make(*run, (), None, "honorific"))
        found.extend(self._names_before_titles())
        found.extend(self._subjects_of_triggers(known))
        verbs = self.data.meetings.get("anchor_triggers")
        anchoring = _find(verbs, self.tokens, self.text) if verbs else self.p.triggers
        anchors = sorted({m.end for m in anchoring} | {i + 1 for i in self.p.with_words})
        for a in anchors:
            if a - 1 >= 0 and self.is_initial(a - 1):
                continue  # "С.В.Лавров": "С" is an initial, not "with"
            if a < len(self.tokens) and a not in self.taken:
                run = self.name_run(a)
                if run and (run[1] - run[0] >= 2 or not self.capitalised or self._known(run, known)):
                    found.append(self.make(*run, (), None, "anchor"))
                    key = self._matches_known(run[0], known) if run[1] - run[0] == 1 else None
                    if key is not None and fold(found[-1].name.label) != fold(known[key].surname):
                        # "С Ортегой" (read "Ортегойи"): the surname of a name met before, not a new reading
                        found[-1] = replace(found[-1], name=known[key])
        if self.lang == "ru":
            found.extend(self._morphological_names())
        found.extend(self._references(known))
        return sorted(found, key=lambda m: m.start)

    def _subjects_of_triggers(self, known: dict[str, PersonName]) -> list[Mention]:
        """"Sergey Lavrov met ...", "Lavrov has met ...": the name right before a meeting word."""
        out = []
        auxiliaries = _indices(_find(self.data.meetings.get("auxiliaries"), self.tokens, self.text))
        for trigger in self.p.triggers:
            end = trigger.start
            while end - 1 >= 0 and end - 1 in auxiliaries and not self.gap(end).strip():
                end -= 1
            if end == 0 or self.gap(end).strip() or end - 1 in self.taken or not self.name_token(end - 1, False):
                continue
            start = end - 1
            while start - 1 >= 0 and not self.gap(start).strip() and self.name_token(start - 1, False) \
                    and end - start < self.max_tokens:
                start -= 1
            while start - 1 >= 0 and start - 1 not in self.taken and self.is_initial(start - 1):
                start -= 1  # "Затем М.Ю.Галузин был принят": the initials belong to the subject
            run = self.name_run(start)
            if run and run[1] == end and (run[1] - run[0] >= 2 or self._known(run, known)):
                out.append(self.make(*run, (), None, "subject"))
                out.extend(self._conjoined_subject(run[0], known))
        return out

    def _conjoined_subject(self, start: int, known: dict[str, PersonName]) -> list[Mention]:
        """"Lavrov and Wang Yi met": the name before "and" is a subject too."""
        conj = start - 1
        if conj < 1 or conj not in self.p.with_words or conj - 1 in self.taken:
            return []
        end = conj
        first = end - 1
        while first - 1 >= 0 and not self.gap(first).strip() and self.name_token(first - 1, False) \
                and end - first < self.max_tokens:
            first -= 1
        if not self.name_token(first, True):
            return []
        run = self.name_run(first)
        if run and run[1] == end and (run[1] - run[0] >= 2 or self._known(run, known)):
            return [self.make(*run, (), None, "subject")]
        return []

    def _names_before_titles(self) -> list[Mention]:
        """"Omar Al Mansouri, the Ambassador of Oman, ..." — a name introduced by the title after it."""
        out = []
        if "," not in self.p.sentence.text and "،" not in self.p.sentence.text:
            return out  # the title is set off by a comma
        for i in range(len(self.tokens)):
            if i in self.taken or not self.name_token(i, first=True) or (i > 0 and self.name_token(i - 1, True)):
                continue
            run = self.name_run(i)
            if not run or run[1] - run[0] < 2 or run[1] >= len(self.tokens):
                continue
            if self.gap(run[1]).strip() not in (",", "،"):
                continue
            roles, _ = self.appositive_roles(run[1])
            if roles:
                out.append(self.make(*run, (), None, "apposition"))
        return out

    def _title_case(self, chain: list[Match]) -> str | None:
        for title in chain:
            for i in range(title.start, title.end):
                case = case_of_ru(self.tokens[i].surface)
                if case:
                    return case
        return None

    def _morphological_names(self) -> list[Mention]:
        out = []
        i = 0
        while i < len(self.tokens):
            run = self.name_run(i) if self.name_token(i, first=True) else None
            if run and all(self.is_initial(k) for k in range(*run)):
                run = None  # initials alone ("М. Ю." before a surname taken elsewhere) are no name
            if run and run[1] - run[0] >= 2 and self._has_name_tag(run):
                out.append(self.make(*run, (), None, "morphology"))
                i = run[1]
            else:
                i += 1
        return out

    def _has_name_tag(self, run: tuple[int, int]) -> bool:
        from kg.names import _parses

        return any(
            any(t in p.tag for t in ("Name", "Surn")) for i in range(*run)
            for p in _parses(self.tokens[i].surface)[:2]
        )

    def _known(self, run: tuple[int, int], known: dict[str, PersonName]) -> bool:
        return any(self._matches_known(i, known) for i in range(*run))

    def _matches_known(self, i: int, known: dict[str, PersonName]) -> str | None:
        keys = name_keys(self.lang, self.tokens[i].surface)
        for key in sorted(keys):
            if key in known:
                return key
        return None

    def _references(self, known: dict[str, PersonName]) -> list[Mention]:
        out = []
        for i, tok in enumerate(self.tokens):
            if i in self.taken or i in self.blocked or i in self.p.quoted:
                continue
            if self.capitalised and not tok.is_capitalised:
                continue
            key = self._matches_known(i, known)
            if key is None:
                continue
            name = known[key]
            self.taken.add(i)
            out.append(Mention(
                "person", tok.start, tok.end, tok.surface, self.p.sentence.index, name=name,
                context="reference", token_start=i, token_end=i + 1,
            ))
        return out


@lru_cache(maxsize=200_000)
def name_keys(lang: str, surface: str) -> frozenset[str]:
    """Comparison keys of one name token: folded forms, without clitics or case endings."""
    keys = {fold(re.sub(r"['’]s$", "", surface))}
    if lang == "ar":
        keys |= {k for k in token_keys("ar", surface) if len(k) >= 3}
    if lang == "ru":
        keys |= {fold(w) for w in nominative_ru([surface], None)}
        for case in ("gent", "datv", "ablt", "loct", "accs"):
            keys.add(fold(nominative_ru([surface], case)[0]))
    return frozenset(keys)


def find_persons(doc_text: str, parse: SentenceParse, lang: str, known: dict[str, PersonName]) -> list[Mention]:
    """Person mentions of a parsed sentence; ``known`` maps name keys to names found earlier."""
    finder = _PersonFinder(doc_text, parse, lang)
    mentions = finder.find(known)
    return [_with_context(m, parse, lang, doc_text) for m in mentions]


def _with_context(m: Mention, parse: SentenceParse, lang: str, text: str) -> Mention:
    """Mark a person who is only mentioned: a possessive, after "initiative of", inside quotes."""
    from dataclasses import replace

    start = min(m.token_start, m.role_span[0]) if m.role_span != (0, 0) else m.token_start
    if re.search(r"['’]s$", m.text) or text[m.end : m.end + 2] in ("'s", "’s"):
        return replace(m, context="mentioned")
    if any(0 <= start - cue.end <= 2 for cue in parse.mention_only):
        return replace(m, context="mentioned")
    if m.token_start in parse.quoted:
        return replace(m, context="mentioned")
    return m


# --- states, organisations and cities -----------------------------------------------------------------


def find_agents(parse: SentenceParse, persons: list[Mention], text: str) -> list[Mention]:  # noqa: C901
    """State/organisation/city mentions with how each takes part in the sentence."""
    person_spans = [p.role_span if p.role_span != (0, 0) else (p.token_start, p.token_end) for p in persons]
    out: list[Mention] = []
    previous: Mention | None = None
    for m in parse.entities:
        kind, key = m.label.split(":", 1)
        context = "free"
        if any(a <= m.start < b for a, b in person_spans):
            context = "affiliation"
        elif m.start in parse.quoted:
            context = "quoted"
        elif kind in ("city", "region"):
            context = "location"
        elif m.start - 1 in parse.locatives and kind in ("state", "state-adj"):
            context = "location"
        elif kind == "state-adj":
            context = "delegation" if any(abs(d.start - m.end) <= 1 or abs(m.start - d.end) <= 1
                                          for d in parse.delegation) else "modifier"
        elif any(0 <= m.start - d.end <= 2 for d in parse.delegation):
            context = "delegation"
        elif kind == "org" and previous is not None and previous.kind == "org" and (
            any(previous.token_end <= i < m.start for i in parse.org_links)
            or "(" in text[previous.end : m.start]
        ) and m.start - previous.token_end <= 2:
            context = "parent" if "(" not in text[previous.end : m.start] else "repeat"
        if previous is not None and context == "free" and previous.kind in ("state", "state-adj") \
                and kind == "state" and previous.context in ("delegation", "location") \
                and re.fullmatch(r"[\s,،]*(?:و|and|и|и\s|,)?\s*", _between(text, previous, m) or " "):
            context = previous.context
        mention = Mention(
            "state" if kind == "state-adj" else kind, m.char_start, m.char_end, m.text, parse.sentence.index,
            key=key, context=context, token_start=m.start, token_end=m.end,
        )
        out.append(mention)
        previous = mention
    return out


def _between(text: str, a: Mention, b: Mention) -> str:
    return text[a.end : b.start]

