"""Plain typed records that flow through the pipeline.

article file -> :class:`Document` -> :class:`Sentence` / :class:`Mention` ->
:class:`PersonEntity` -> :class:`MeetingRecord` -> RDF. Every stage is a pure function
from one of these to the next; nothing here knows about RDF or files.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace

from rdflib.namespace import XSD


@dataclass(frozen=True, order=True, slots=True)
class PartialDate:
    """A calendar date known to year, month or day precision.

    >>> PartialDate(2026, 3).iso()
    '2026-03'
    >>> PartialDate(2023, 8, 25).datatype == XSD.date
    True
    >>> PartialDate.from_iso("2024-06")
    PartialDate(year=2024, month=6, day=None)
    """

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if self.day is not None and self.month is None:
            raise ValueError("a day needs a month")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError(f"month out of range: {self.month}")
        if self.day is not None:
            _dt.date(self.year, self.month, self.day)  # raises on impossible dates
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year out of range: {self.year}")

    @property
    def precision(self) -> str:
        return "day" if self.day else "month" if self.month else "year"

    @property
    def datatype(self):
        return {"day": XSD.date, "month": XSD.gYearMonth, "year": XSD.gYear}[self.precision]

    def iso(self) -> str:
        if self.day:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"

    def to_date(self) -> _dt.date | None:
        return _dt.date(self.year, self.month, self.day) if self.day else None

    def coarsen(self, precision: str) -> PartialDate:
        """The same date at ``precision`` (never finer than it is)."""
        if precision == "year":
            return PartialDate(self.year)
        if precision == "month" and self.month:
            return PartialDate(self.year, self.month)
        return self

    @classmethod
    def from_date(cls, value: _dt.date) -> PartialDate:
        return cls(value.year, value.month, value.day)

    @classmethod
    def from_iso(cls, text: str) -> PartialDate:
        parts = [int(p) for p in text.split("-")]
        return cls(*parts)


@dataclass(frozen=True, slots=True)
class Document:
    """One article, decoded, with what ingestion learned about it.

    Offsets everywhere in the pipeline index into ``text`` (the whole decoded file,
    front matter included), so evidence can be located in the original article.
    """

    id: str
    path: str
    text: str
    body_start: int
    language: str
    title: str | None = None
    published: PartialDate | None = None
    dateline: PartialDate | None = None
    content_hash: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def reference_date(self) -> PartialDate | None:
        """The date relative words ("today", "вчера") resolve against.

        The text's own date (a dateline or a title ending in a date) wins over the
        publication date: a press release dated 11 August that says "today" means
        11 August even when a site republished it on the 12th.
        """
        return self.dateline or self.published

    @property
    def body(self) -> str:
        return self.text[self.body_start:]

    def without_text(self) -> Document:
        """This document's metadata alone (``text`` empty): what a build keeps of each article once its
        extraction holds the quotes of its evidence (:meth:`ArticleExtraction.for_graph`)."""
        return replace(self, text="") if self.text else self


@dataclass(frozen=True, slots=True)
class Sentence:
    index: int
    start: int
    end: int
    paragraph: int
    text: str


@dataclass(frozen=True, slots=True)
class PersonName:
    """A person's name in nominative base form, split into given names and surname."""

    label: str
    given: tuple[str, ...]
    surname: str


@dataclass(frozen=True, slots=True)
class Role:
    """A post as the text states it: a role-scheme key, the words used, and whose post it is."""

    key: str | None
    text: str
    affiliation: str | None  # "state:KZ" or "org:osce"


@dataclass(frozen=True, slots=True)
class Mention:
    """A span of the document that names an actor, a place or a role.

    ``kind`` is ``person``, ``state``, ``org`` or ``place``. ``key`` is the registry key
    for states (ISO code), organisations and places; persons carry ``name`` instead.
    A person's ``roles`` come from the titles next to the name.
    """

    kind: str
    start: int
    end: int
    text: str
    sentence: int
    key: str | None = None
    name: PersonName | None = None
    roles: tuple[Role, ...] = ()
    context: str = "free"  # how it takes part: free, affiliation, location, delegation, mentioned, ...
    token_start: int = 0
    token_end: int = 0
    role_span: tuple[int, int] = (0, 0)  # token range of the name with its titles (persons)


@dataclass(slots=True)
class PersonEntity:
    """A person as one article knows them, after in-article coreference."""

    local_id: str
    name: PersonName
    language: str
    forms: set[str] = field(default_factory=set)
    roles: list[Role] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)

    @property
    def affiliations(self) -> set[str]:
        return {role.affiliation for role in self.roles if role.affiliation}


@dataclass(frozen=True, slots=True)
class Participant:
    """A meeting participant: ``("person", local_id)``, ``("state", "KZ")`` or ``("org", key)``."""

    kind: str
    key: str


@dataclass(slots=True)
class MeetingRecord:
    participants: list[Participant]
    evidence: list[tuple[int, int]]
    mode: str = "in-person"
    date: PartialDate | None = None
    place: str | None = None
    topics: set[str] = field(default_factory=set)
    planned: bool = False
    trigger: str = ""
    segment: tuple[int, int] = (0, 0)  # sentence index range [start, end) whose text describes it
    clause: tuple[int, int] | None = None  # token range of its clause where one sentence tells several meetings


@dataclass(slots=True)
class ArticleExtraction:
    """Everything extracted from one document."""

    document: Document
    sentences: list[Sentence]
    mentions: list[Mention]
    persons: dict[str, PersonEntity]
    meetings: list[MeetingRecord]
    #: The text of each evidence span, ``(start, end) -> text``; kept by :meth:`for_graph`, so that a build
    #: need not keep the document's text. Empty: read the spans from ``document.text``.
    quotes: dict[tuple[int, int], str] = field(default_factory=dict)

    def quote(self, start: int, end: int) -> str:
        """The text of the evidence span ``[start, end)``."""
        text = self.quotes.get((start, end))
        return self.document.text[start:end] if text is None else text

    def for_graph(self) -> ArticleExtraction:
        """This extraction without what linking identities and writing RDF never read (sentences, mentions,
        each person's mentions), with the quotes of its evidence: about a fifth of its memory, and the
        document's text (another third) can go, for a build that holds every article's.

        >>> doc = Document("a1", "a1.txt", "A met B. Then C.", 0, "en")
        >>> person = PersonEntity("p1", PersonName("A B", ("A",), "B"), "en", {"A B"}, [], ["a mention"])
        >>> meeting = MeetingRecord([], [(0, 8)])
        >>> slim = ArticleExtraction(doc, ["a sentence"], ["a mention"], {"p1": person}, [meeting]).for_graph()
        >>> slim.sentences, slim.mentions, slim.persons["p1"].mentions, slim.persons["p1"].forms
        ([], [], [], {'A B'})
        >>> slim.quotes, replace(slim, document=doc.without_text()).quote(0, 8)
        ({(0, 8): 'A met B.'}, 'A met B.')
        """
        persons = {key: replace(person, mentions=[]) for key, person in self.persons.items()}
        quotes = {span: self.quote(*span) for meeting in self.meetings for span in meeting.evidence}
        return ArticleExtraction(self.document, [], [], persons, self.meetings, quotes)


def in_document_order(extractions: Iterable[ArticleExtraction]) -> Iterable[ArticleExtraction]:
    """``extractions`` by document id. A sequence that declares itself in that order
    (``ordered_by_document_id = True``, as :class:`kg.cache.EncodedExtractions` does) is iterated as it is,
    so one that decodes each item on access never has them all decoded at once."""
    if getattr(extractions, "ordered_by_document_id", False):
        return extractions
    return sorted(extractions, key=lambda ex: ex.document.id)


def _quick_pickling(cls: type) -> type:
    """Give a frozen slotted dataclass a ``__getstate__``/``__setstate__`` that read and set its slots directly:
    those ``dataclasses`` writes for it call ``fields()`` on every object, which was most of the time spent
    decoding cached extractions (hundreds of thousands of these objects in a large rebuild). The state is the
    same (the list of field values in order), so are the pickles."""
    from operator import attrgetter

    names = tuple(f.name for f in fields(cls))
    setters = tuple(getattr(cls, name).__set__ for name in names)  # the slots' descriptors skip the frozen check
    values = attrgetter(*names)

    def __getstate__(self) -> list:
        return list(values(self)) if len(names) > 1 else [values(self)]

    def __setstate__(self, state) -> None:
        for set_value, value in zip(setters, state, strict=True):
            set_value(self, value)

    cls.__getstate__ = __getstate__
    cls.__setstate__ = __setstate__
    return cls


for _frozen in (PartialDate, Document, Sentence, PersonName, Role, Mention, Participant):
    _quick_pickling(_frozen)
del _frozen
