"""From a :class:`Document` to its persons and meetings (one article at a time, a pure function).

Stages, in order: sentences -> parsed sentences (registry entities, titles, cues) -> persons
(two passes: names first, then references back to them) -> states/organisations with their
role in the sentence -> meetings (participants, mode, date, place) -> topics.
"""

from __future__ import annotations

import os
import re

from kg.dates import find_dates
from kg.lang import language, supported_languages
from kg.lexicon import Match
from kg.model import (
    ArticleExtraction,
    Document,
    MeetingRecord,
    Mention,
    PartialDate,
    Participant,
    PersonEntity,
    PersonName,
)
from kg.recognise import SentenceParse, find_agents, find_persons, name_keys, parse_sentence
from kg.registry import compound_lexicon
from kg.text import Token, fold, split_sentences
from kg.topics import cue_topics

LOOKAHEAD_SENTENCES = 3
PLANNED_WINDOW_BEFORE = 5
PLANNED_WINDOW_AFTER = 2


def extract(doc: Document) -> ArticleExtraction:
    """Everything the article says about meetings, as plain records."""
    if doc.language not in supported_languages():
        return ArticleExtraction(doc, [], [], {}, [])
    lang = doc.language
    sentences = split_sentences(doc.text, doc.body_start)
    parses = [parse_sentence(doc.text, s, lang) for s in sentences]
    first_pass = [find_persons(doc.text, p, lang, {}) for p in parses]
    known = _known_names(lang, [m for ms in first_pass for m in ms])
    for p in parses:
        p.persons = find_persons(doc.text, p, lang, known)
        p.agents = find_agents(p, p.persons, doc.text)
    persons, mention_entity = _cluster_persons(lang, [m for p in parses for m in p.persons])
    _resolve_bare_titles(parses, persons, mention_entity)
    meetings = _meetings(doc, parses, mention_entity, persons)
    mentions = [m for p in parses for m in (*p.persons, *p.agents)]
    return ArticleExtraction(doc, sentences, mentions, persons, meetings)


# --- persons within one article ---------------------------------------------------------------------


def _known_names(lang: str, mentions: list[Mention]) -> dict[str, PersonName]:
    """Keys (surnames and their inflected/clitic variants) of names introduced in the article."""
    known: dict[str, PersonName] = {}
    for m in mentions:
        if m.name is None or (len(m.name.label.split()) < 2 and m.context not in ("title", "honorific")):
            continue
        last = m.name.label.split()[-1]
        for key in name_keys(lang, last):
            if len(key) >= 3:
                known.setdefault(key, m.name)
        if lang == "ar":
            known.setdefault(arabic_skeleton(last), m.name)
    return known


def arabic_skeleton(word: str) -> str:
    """An Arabic name without long vowels, to match spelling variants ("نورتليو" ~ "نورتلو")."""
    folded = fold(word)
    return folded[:1] + re.sub("[اويى]", "", folded[1:]) if len(folded) >= 5 else folded


def _compatible_given(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    if not a or not b:
        return True
    short, long = sorted((tuple(fold(w) for w in a), tuple(fold(w) for w in b)), key=len)
    if len(short) < len(long) and long[-len(short):] == short:
        return True  # "Ел Хатиб" is "Хасан Ел Хатиб", "Абдель Аты" is "Бадр Абдель Аты"
    fa, fb = fold(a[0]).rstrip("."), fold(b[0]).rstrip(".")
    if min(len(fa), len(fb)) == 1:  # an initial: "С.В. Лавров" is "Сергей Лавров"
        return fa[:1] == fb[:1]
    return fa[:3] == fb[:3]


def _cluster_persons(lang: str, mentions: list[Mention]) -> tuple[dict[str, PersonEntity], dict[int, str]]:
    """Group the article's person mentions into persons (coreference inside the article)."""
    entities: dict[str, PersonEntity] = {}
    by_key: dict[str, list[str]] = {}
    mention_entity: dict[int, str] = {}
    ordered = sorted(range(len(mentions)), key=lambda i: (-len(mentions[i].name.label.split()), mentions[i].start))
    for i in ordered:
        m = mentions[i]
        name = m.name
        surname_keys = name_keys(lang, name.surname.split()[-1]) | (
            {arabic_skeleton(name.surname.split()[-1])} if lang == "ar" else set()
        )
        target = None
        for key in sorted(surname_keys):
            for local_id in by_key.get(key, []):
                if _compatible_given(entities[local_id].name.given, name.given):
                    target = local_id
                    break
            if target:
                break
        if target is None and name.given:
            target = _inflected_variant(entities, name)
        if target is None:
            target = f"p{len(entities) + 1}"
            entities[target] = PersonEntity(target, name, lang)
        entity = entities[target]
        entity.forms.add(name.label)
        entity.mentions.append(m)
        for role in m.roles:
            if role not in entity.roles:
                entity.roles.append(role)
        for key in surname_keys:
            by_key.setdefault(key, [])
            if target not in by_key[key]:
                by_key[key].append(target)
        mention_entity[id(m)] = target
    return entities, mention_entity


def _inflected_variant(entities: dict[str, PersonEntity], name: PersonName) -> str | None:
    """The person already found whose name differs from ``name`` only in the ending of the surname, with
    the same given names: one foreign name in two cases where the dictionary could restore only one
    ("Данг Минь Кхоем" -> "Кхой", "Данг Минь Кхоя" kept as written)."""
    given = tuple(fold(w) for w in name.given)
    surname = fold(name.surname)
    for local_id, entity in entities.items():
        other = entity.name
        if tuple(fold(w) for w in other.given) != given:
            continue
        theirs = fold(other.surname)
        common = len(os.path.commonprefix([surname, theirs]))
        if theirs != surname and min(len(surname), len(theirs)) >= 4 and common >= 3 \
                and common >= max(len(surname), len(theirs)) - 2:
            return local_id
    return None


#: Titles that name a kind of post rather than one post: "the Russian minister" may be the foreign minister.
_GENERIC_ROLES = {"head", "minister"}


#: A bare title that names a kind of post the holder's post belongs to ("the Russian diplomat" is the deputy
#: foreign minister introduced before, "замминистра" the deputy foreign minister).
_BROADER_ROLES = {
    "diplomat": {"foreign-minister", "deputy-foreign-minister", "ambassador", "permanent-representative",
                 "charge-d-affaires", "consul", "consul-general", "special-envoy", "special-representative",
                 "state-secretary"},
    "deputy-minister": {"deputy-foreign-minister"},
}


def _role_fits(bare: str, held: str | None) -> bool:
    if held is None:
        return False
    if bare == held or held in _BROADER_ROLES.get(bare, ()):
        return True
    return bare in _GENERIC_ROLES and not held.startswith("deputy-") and (bare == "head" or held.endswith(bare))


def _resolve_bare_titles(
    parses: list[SentenceParse], persons: dict[str, PersonEntity], mention_entity: dict[int, str]
) -> None:
    """"Позднее глава российской дипломатии встретился с ...", "Претседателката потоа ги прими ...": a title
    without a name in a meeting sentence is the one person introduced earlier with that post (and state)."""
    for index, parse in enumerate(parses):
        if not parse.bare_titles or not parse.triggers:
            continue
        present = {mention_entity[id(m)] for m in parse.persons}
        for start, end, role in parse.bare_titles:
            if any(m.token_start <= start < max(m.token_end, m.role_span[1]) for m in parse.persons):
                continue
            fits = [
                pid for pid, person in persons.items()
                if pid not in present and any(m.sentence < index for m in person.mentions)
                and any(_role_fits(role.key, r.key) and (role.affiliation is None or role.affiliation == r.affiliation)
                        for r in person.roles)
            ]
            if len(fits) > 1 and role.affiliation is None:
                # "Министерот потоа се сретна ...": a bare post is the article's protagonist, named first
                fits = sorted(fits, key=lambda f: min(m.start for m in persons[f].mentions))[:1]
            if len(fits) != 1:
                continue
            pid = fits[0]
            tokens = parse.tokens
            offset = parse.sentence.start
            mention = Mention(
                "person", tokens[start].start, tokens[end - 1].end,
                parse.sentence.text[tokens[start].start - offset : tokens[end - 1].end - offset],
                parse.sentence.index, name=persons[pid].name, context="title-reference",
                token_start=start, token_end=end, role_span=(start, end),
            )
            parse.persons.append(mention)
            parse.persons.sort(key=lambda m: m.start)
            persons[pid].mentions.append(mention)
            mention_entity[id(mention)] = pid
            present.add(pid)


# --- meetings ---------------------------------------------------------------------------------------


def _planned(trigger: Match, parse: SentenceParse) -> bool:
    return any(
        trigger.start - PLANNED_WINDOW_BEFORE <= cue.start <= trigger.end + PLANNED_WINDOW_AFTER
        for cue in parse.planned
    )


def _setting(trigger: Match, parse: SentenceParse) -> bool:
    """A session named as the setting of a meeting ("на полях сессии", "на маргините на самитот")."""
    return trigger.label == "session" and any(0 <= trigger.start - cue.end <= 2 for cue in parse.settings)


def _mode(triggers: list[Match]) -> str:
    labels = {t.label for t in triggers}
    for mode in ("video", "phone", "session"):
        if mode in labels:
            return mode
    return "in-person"


def _cut(parse: SentenceParse, trigger: Match) -> int:
    """Token index where the clause about the meeting ends (a proposal or plan begins)."""
    cues = [c.start for c in (*parse.planned, *parse.mention_only) if c.start >= trigger.end]
    return min(cues) if cues else len(parse.tokens)


def _meetings(
    doc: Document, parses: list[SentenceParse], mention_entity: dict[int, str], persons: dict[str, PersonEntity]
) -> list[MeetingRecord]:
    records: list[MeetingRecord] = []
    for index, parse in enumerate(parses):
        said = [t for t in parse.triggers if t.start not in parse.quoted]
        real = [t for t in said if not _planned(t, parse)]
        planned = not real
        real = real or said
        if not real:
            discussed = _cues(doc, parse, "discussed") if records else []
            if discussed:
                records.extend(_discussed_with(doc, parses, index, records, persons, mention_entity, discussed[0]))
            continue
        cut = len(parse.tokens) if planned else _cut(parse, real[0])
        attendance = _cues(doc, parse, "attendance")
        if any(c.start <= real[0].end + 2 for c in attendance) and records:
            continue  # "The reception was attended by X and Y": those present at the meeting just reported
        if any(c.start < cut for c in _cues(doc, parse, "recalled")):
            continue  # "В последний раз они встречались в декабре": an earlier meeting recalled, not reported
        # "استقبل X Y، بحضور Z", "received Y in the presence of Z": Z attends, a party to the meeting is not
        attends = {i for c in attendance if c.start > real[0].end + 2
                   for i in range(c.end, next((t.start for t in parse.triggers if t.start > c.end), cut))}
        people = []
        for m in parse.persons:
            if m.context == "mentioned" or m.token_start >= cut or m.token_start in attends:
                continue
            pid = mention_entity[id(m)]
            if pid not in people:
                people.append(pid)
        institutions = [a for a in parse.agents if a.kind in ("state", "org") and a.context in ("free", "delegation")
                        and a.token_start < cut]
        if not people and records and _cues(doc, parse, "continuations"):
            continue  # "Во разговорот беше истакнато ... Словенија ... ЕУ": more about the meeting just told
        mode = _mode([t for t in real if not _setting(t, parse)] or real)
        if len(people) == 1 and not planned:
            _add_protagonist(people, records, _cues(doc, parse, "anaphors"), parse, cut)
        clauses = _subjectless_clauses(parse, people, mention_entity, doc.text, cut) if not planned else []
        host = _main_person(records, persons, people) if clauses else None
        session = any(t.label == "session" for t in real if not _setting(t, parse))
        # "the ambassadors of A and B": states standing for representatives named later (credentials in turn)
        standins = _standins(parse, doc.text)
        one_by_one = _cues(doc, parse, "one_by_one")
        if one_by_one:  # credentials from the new ambassadors of A, B and C: each state stands for its envoy
            standins |= {f"state:{a.key}" for a in institutions if a.kind == "state"}
        spans: list[tuple[int, int] | None] = []
        if host is not None:  # "Со X разговараше за ..., а со Y за ...": the main person met X, then Y
            groups = [[host, *(Participant("person", pid) for pid in clause)] for _, clause in clauses]
            spans = [(start, clauses[k + 1][0] if k + 1 < len(clauses) else len(parse.tokens))
                     for k, (start, _) in enumerate(clauses)]
        else:
            groups = _participant_groups(people, institutions, session, persons, standins)
        if len(groups) == 1 and len(groups[0]) > 2 and one_by_one:
            groups = [[groups[0][0], other] for other in groups[0][1:]]  # credentials presented one by one
        if not groups:
            if len(people) == 1 and not planned:
                _attach_representative(records, people[0], persons, parse, index)
            continue
        for k, group in enumerate(groups):
            records.append(MeetingRecord(
                participants=group, evidence=[(parse.sentence.start, parse.sentence.end)], mode=mode,
                trigger=real[0].text, segment=(index, index + 1), planned=planned,
                clause=spans[k] if len(spans) > 1 else None,
            ))
            records[-1].date = _date_in(doc, parse, cut)
            records[-1].place = _place_in(parse) if mode not in ("phone", "video") else None
    _replace_states_by_representatives(records, parses, persons)
    records = _without_summaries(_merge_same_participants(_merge_represented(records, persons)))
    _set_segments(records, parses)
    _default_dates(doc, records, parses)
    for record in records:
        record.topics = _topics(doc, parses, record, persons)
    return records


_CLAUSE_BREAK = re.compile(r"[,;—–]")


def _subjectless_clauses(
    parse: SentenceParse, people: list[str], mention_entity: dict[int, str], text: str, cut: int
) -> list[tuple[int, list[str]]]:
    """The persons of a meeting sentence without a subject, grouped by clause (with the token where each clause
    begins): every named party comes after a "with" word ("Со X разговараше за ..., а со Y за ...", "С X
    провел переговоры ..., а с Y — ..."), so the sentence tells whom somebody not named there met, clause by
    clause. Empty where a party is named otherwise."""
    if len(people) < 2:
        return []
    found: list[tuple[int, int, int, str]] = []  # (with-word token, first token, last token, person)
    for m in parse.persons:
        if m.context == "mentioned" or m.token_start >= cut:
            continue
        start = min(m.token_start, m.role_span[0]) if m.role_span != (0, 0) else m.token_start
        word = next((i for i in (start - 1, start - 2) if i in parse.with_words and not _initial(parse, i, text)),
                    None)
        if word is None:
            return []
        found.append((word, start, max(m.token_end, m.role_span[1]), mention_entity[id(m)]))
    if len(found) < 2 or {pid for *_, pid in found} != set(people):
        return []  # a party named otherwise ("His Highness met with X": the protagonist, added before)
    found.sort()
    clauses: list[tuple[int, list[str]]] = []
    previous_end = None
    for word, _start, end, pid in found:
        gap = text[parse.tokens[previous_end - 1].end : parse.tokens[word].start] if previous_end else ","
        if _CLAUSE_BREAK.search(gap):
            clauses.append((0 if not clauses else word, []))
        if pid not in clauses[-1][1]:
            clauses[-1][1].append(pid)
        previous_end = end
    return clauses


def _discussed_with(
    doc: Document, parses: list[SentenceParse], index: int, records: list[MeetingRecord],
    persons: dict[str, PersonEntity], mention_entity: dict[int, str], cue: Match,
) -> list[MeetingRecord]:
    """"С X обсуждались ..., а с Y — ...", "Со X беше разменето мислење ..., а со Y за ...": after a meeting, a
    sentence with no meeting word that tells, counterpart by counterpart, what was discussed. The person the
    sentence before is about (else the article's protagonist) met each; the day is the previous meeting's."""
    parse = parses[index]
    people = list(dict.fromkeys(mention_entity[id(m)] for m in parse.persons if m.context != "mentioned"))
    clauses = _subjectless_clauses(parse, people, mention_entity, doc.text, len(parse.tokens))
    if len(clauses) < 2:
        return []
    named = {pid for _, clause in clauses for pid in clause}
    before = {mention_entity[id(m)] for m in parses[index - 1].persons if m.context != "mentioned"} - named
    host = Participant("person", before.pop()) if len(before) == 1 else _main_person(records, persons, people)
    if host is None:
        return []
    parse.sequence.append(cue)  # told as the next step of the meeting before: that meeting's day
    out = []
    for k, (start, clause) in enumerate(clauses):
        end = clauses[k + 1][0] if k + 1 < len(clauses) else len(parse.tokens)
        out.append(MeetingRecord(
            participants=[host, *(Participant("person", pid) for pid in clause)],
            evidence=[(parse.sentence.start, parse.sentence.end)], trigger=cue.text, segment=(index, index + 1),
            clause=(start, end), date=_date_in(doc, parse, len(parse.tokens)), place=records[-1].place,
        ))
    return out


def _initial(parse: SentenceParse, i: int, text: str) -> bool:
    """"С." of "С.А.Рябков": an initial, not the word "with"."""
    token = parse.tokens[i]
    return token.surface.isupper() and text[token.end : token.end + 1] == "."


def _main_person(
    records: list[MeetingRecord], persons: dict[str, PersonEntity], exclude: list[str]
) -> Participant | None:
    """Whom the article follows: the protagonist of the meetings told so far, else the person it names most
    (the first named on a tie), other than those in ``exclude``."""
    host = _protagonist(records)
    if host is not None and host.key not in exclude:
        return host
    candidates = [(len(p.mentions), -min(m.start for m in p.mentions), pid) for pid, p in persons.items()
                  if pid not in exclude and p.mentions]
    return Participant("person", max(candidates)[2]) if candidates else None


def _cues(doc: Document, parse: SentenceParse, name: str) -> list[Match]:
    lexicon = language(doc.language).meetings.get(name)
    return lexicon.find(parse.tokens, doc.text) if lexicon else []


def _add_protagonist(
    people: list[str], records: list[MeetingRecord], anaphors: list[Match], parse: SentenceParse, cut: int
) -> None:
    """"His Highness also met X", "كما التقى سموه X": a pronoun or courtesy title with no name is the
    protagonist of the meeting reported before, its first participant."""
    named = {i for m in parse.persons for i in range(m.token_start, m.token_end)}
    if not records or not any(a.start < cut and a.start not in named for a in anaphors):
        return
    host = _protagonist(records)
    if host is not None and host.key not in people:
        people.insert(0, host.key)


_LIST_GAP = re.compile(r"[\s,،]*(?:و|and|и|и\s|,)?\s*")


def _standins(parse: SentenceParse, text: str) -> set[str]:
    """States and organisations a title without a name stands for ("the ambassadors of A, B and C", "Nigeria's
    Foreign Minister"): each stands for its representative, who may be named later."""
    out: set[str] = set()
    agents = sorted((a for a in parse.agents if a.kind in ("state", "org")), key=lambda a: a.token_start)
    for _start, end, role in parse.bare_titles:
        if role.affiliation:
            out.add(role.affiliation)
        previous = None
        for a in agents:
            if previous is None:
                if not end <= a.token_start <= end + 2:
                    continue
            elif not _LIST_GAP.fullmatch(text[previous.end : a.start]):
                break
            out.add(f"{a.kind}:{a.key}")
            previous = a
    return out


def _protagonist(records: list[MeetingRecord]) -> Participant | None:
    """The person the article follows: a party to most of the meetings told so far, the earliest on a tie
    ("X received Y ... X received a call from Z ... His Highness also met W": X, not Y or Z)."""
    count: dict[Participant, int] = {}
    for record in records:
        for p in record.participants:
            if p.kind == "person":
                count[p] = count.get(p, 0) + 1
    if not count:
        return None
    last = [p for p in records[-1].participants if p.kind == "person"]
    return max(count, key=lambda p: (count[p], p in last))


def _participant_groups(
    people: list[str], institutions: list[Mention], session: bool, persons: dict[str, PersonEntity],
    standins: set[str] = frozenset(),
) -> list[list[Participant]]:
    """Who met whom in one meeting sentence. A state or organisation is a party of its own only where it
    takes part without a named person: a delegation ("the delegations of A and B", "وفد من ..."), or an
    organisation whose session was attended; a state or organisation only mentioned beside a person (a topic,
    a list, a possessive, a press conference) is no party."""
    person_parts = [Participant("person", pid) for pid in people]
    affiliated = {a for pid in people for a in persons[pid].affiliations}
    # organisations listed together with delegations ("heads of the delegations of A, B ... and the High
    # Commissioner") were met like them
    listed = any(a.context == "delegation" for a in institutions)
    # with nobody named, a state taking part in a session takes part itself ("Egypt will take part in the summit")
    alone = session and not people
    objects: list[Participant] = []
    for a in institutions:
        part = Participant(a.kind, a.key)
        if f"{a.kind}:{a.key}" in affiliated or part in objects:
            continue
        if a.context != "delegation" and f"{a.kind}:{a.key}" not in standins \
                and not ((a.kind == "org" or alone) and (session or listed)):
            continue
        objects.append(part)
    if len(person_parts) >= 2:
        return [person_parts]
    if len(person_parts) == 1:
        if not objects:
            return []
        if session:
            orgs = [o for o in objects if o.kind == "org"]
            return [person_parts + (orgs[:1] or objects[:1])]
        return [person_parts + [o] for o in objects]
    if session:
        states = [o for o in objects if o.kind == "state"]
        orgs = [o for o in objects if o.kind == "org"]
        if states and orgs:
            return [states + orgs[:1]]
        return []
    return [objects] if len(objects) >= 2 else []


def _attach_representative(
    records: list[MeetingRecord], pid: str, persons: dict[str, PersonEntity], parse: SentenceParse, index: int
) -> None:
    """A lone person in a meeting sentence ("the minister briefed the meeting") who represents a
    state that took part in the previous meeting without a named person."""
    for last in reversed(records):  # credentials in turn: the k-th ambassador answers the k-th state
        if Participant("person", pid) in last.participants:
            return
        for k, part in enumerate(last.participants):
            if part.kind == "state" and f"state:{part.key}" in persons[pid].affiliations:
                last.participants[k] = Participant("person", pid)
                last.evidence.append((parse.sentence.start, parse.sentence.end))
                if last is not records[-1]:
                    last.segment = (index, index + 1)  # one of several met in turn: told here
                return


def _replace_states_by_representatives(
    records: list[MeetingRecord], parses: list[SentenceParse], persons: dict[str, PersonEntity]
) -> None:
    """"The delegation of X took part ... In his speech, X's representative Y said" → Y takes part."""
    starts = sorted({r.segment[0] for r in records})
    for record in records:
        first = record.segment[0]
        later = [s for s in starts if s > first]
        # one sentence listing n states met one by one ("credentials from the ambassadors of A, B, C and D"):
        # each state's representative is told in turn, so look ahead a few sentences per state
        siblings = sum(1 for r in records if r.segment[0] == first)
        stop = min([first + 1 + LOOKAHEAD_SENTENCES * siblings, *later])
        for k, part in enumerate(record.participants):
            if part.kind != "state":
                continue
            for index in range(first, min(stop, len(parses))):
                found = _representative(parses[index], part.key, persons, record)
                if found:
                    record.participants[k] = Participant("person", found)
                    if index > first and siblings > 1:
                        record.segment = (index, index + 1)  # told where its representative is named
                    span = (parses[index].sentence.start, parses[index].sentence.end)
                    if span not in record.evidence:
                        record.evidence.append(span)
                    break


def _representative(
    parse: SentenceParse, state: str, persons: dict[str, PersonEntity], record: MeetingRecord
) -> str | None:
    taken = {p.key for p in record.participants if p.kind == "person"}
    for pid, person in persons.items():
        if pid in taken or f"state:{state}" not in person.affiliations:
            continue
        if any(m.sentence == parse.sentence.index and m.context != "mentioned" for m in person.mentions):
            return pid
    return None


def _merge_represented(records: list[MeetingRecord], persons: dict[str, PersonEntity]) -> list[MeetingRecord]:
    """A meeting of state S with X is the meeting of S's representative with X reported elsewhere in the
    article ("Kazakhstan presented its proposals at the OSCE meeting ... the foreign minister briefed it")."""
    for record in records:
        for k, part in enumerate(record.participants):
            if part.kind != "state" and (part.kind != "org" or record.mode == "session"):
                continue  # an organisation's session is an event of its own, not a talk with its official
            rest = set(record.participants) - {part}
            for other in records:
                if other is record:
                    continue
                people = [p for p in other.participants if p.kind == "person"
                          and f"{part.kind}:{part.key}" in persons[p.key].affiliations]
                if people and set(other.participants) - {people[0]} == rest:
                    record.participants[k] = people[0]
                    if other.segment[0] > record.segment[0]:
                        record.segment = other.segment  # a headline's meeting is told where it names the person
                    break
    return records


def _merge_same_participants(records: list[MeetingRecord]) -> list[MeetingRecord]:
    merged: list[MeetingRecord] = []
    for record in records:
        key = frozenset(record.participants)
        same = next((m for m in merged if frozenset(m.participants) == key and m.planned == record.planned
                     and (m.date is None or record.date is None or m.date == record.date)), None)
        if same is None:
            merged.append(record)
            continue
        same.evidence.extend(e for e in record.evidence if e not in same.evidence)
        same.date = same.date or record.date
        same.place = same.place or record.place
        if same.mode == "in-person" and record.mode != "in-person":
            same.mode = record.mode
    return merged


def _without_summaries(records: list[MeetingRecord]) -> list[MeetingRecord]:
    """A headline or lead that sums up several meetings ("X met Y and was received by Z") is not one more
    meeting of all of them: drop a record whose participants are exactly the union of two or more others."""
    out = []
    for record in records:
        parts = set(record.participants)
        inside = [set(o.participants) for o in records if o is not record and set(o.participants) < parts
                  and o.planned == record.planned]
        if len(parts) > 2 and len(inside) >= 2 and set().union(*inside) == parts:
            continue
        out.append(record)
    return out


def _set_segments(records: list[MeetingRecord], parses: list[SentenceParse]) -> None:
    """Each meeting is described by its sentence and those after it, up to the next meeting."""
    starts = sorted({r.segment[0] for r in records})
    for record in records:
        first = record.segment[0]
        later = [s for s in starts if s > first]
        record.segment = (first, later[0] if later else len(parses))


def _date_in(doc: Document, parse: SentenceParse, cut: int) -> PartialDate | None:
    limit = parse.tokens[cut - 1].end if 0 < cut <= len(parse.tokens) else parse.sentence.end
    for mention in find_dates(doc.language, doc.text, parse.sentence.start, limit):
        if mention.month is None and not mention.is_relative:
            continue
        resolved = mention.resolve(doc.reference_date)
        if resolved is not None:
            return resolved
    return None


def _default_dates(doc: Document, records: list[MeetingRecord], parses: list[SentenceParse]) -> None:
    """A meeting the text does not date happened by the article's date: that day when the article
    reports one meeting (a press release of the day) or when it is the first meeting of an article
    with its own date (the lead under a dateline), otherwise that month. A meeting told as the next
    step of the previous one ("позднее в тот же день", "потоа", "на полях") has that one's date.
    Planned meetings get only the dates the text gives them."""
    reference = doc.reference_date
    if reference is None:
        return
    happened = sorted((r for r in records if not r.planned), key=lambda r: r.segment[0])
    previous: MeetingRecord | None = None
    for record in happened:
        if record.date is None:
            if len(happened) == 1 or (previous is None and doc.dateline is not None and reference.day):
                record.date = reference
            elif previous is None and (lead := _lead_day(doc, parses[: record.segment[0]])) is not None:
                record.date = lead  # "Министерот денеска престојуваше во посета ... Со X разговараше ...": that day
            elif previous is not None and previous.date is not None and previous.date.day is not None \
                    and (record.evidence[0] == previous.evidence[0]  # read from one sentence: one occasion
                         or any(p.sequence for p in parses if (p.sentence.start, p.sentence.end) in record.evidence)):
                record.date = previous.date
            else:
                record.date = reference.coarsen("month")
        previous = record


def _lead_day(doc: Document, before: list[SentenceParse]) -> PartialDate | None:
    """The day the sentences before an article's first meeting give (a visit "today"), if one."""
    for parse in reversed(before):
        found = _date_in(doc, parse, len(parse.tokens))
        if found is not None:
            return found if found.day is not None else None
    return None


def _place_in(parse: SentenceParse) -> str | None:
    """The first city the sentence names (also "consul in Xi'an"), else a state it puts the meeting in."""
    for agent in parse.agents:
        if agent.kind == "city" and agent.context != "quoted":
            return f"city:{agent.key}"
    for agent in parse.agents:
        if agent.kind == "state" and agent.context == "location":
            return f"state:{agent.key}"
    return None


# --- topics -----------------------------------------------------------------------------------------


def _topics(
    doc: Document, parses: list[SentenceParse], record: MeetingRecord, persons: dict[str, PersonEntity]
) -> set[str]:
    """Topic notations whose cues occur in the meeting's sentences, outside names and titles."""
    lang = doc.language
    participants = {f"{p.kind}:{p.key}" for p in record.participants}
    org_officials = any(
        aff.startswith("org:") for p in record.participants if p.kind == "person" for aff in persons[p.key].affiliations
    )
    # between persons, an organisation named in what they discussed (after the meeting's own sentence) is a
    # topic: "разговараа за ... НАТО", "взаимодействие в рамках ЕАЭС"
    persons_only = all(p.kind == "person" for p in record.participants)
    # ... but not the organisation named where the meeting is told (its host: "visited OPANAL and met ...")
    hosts = {a.key for a in parses[record.segment[0]].agents if a.kind == "org"}
    topics: set[str] = set()
    for parse in parses[record.segment[0] : record.segment[1]]:
        masked = {i for m in parse.entities for i in range(m.start, m.end)}
        for person in parse.persons:
            masked |= set(range(*person.role_span)) if person.role_span != (0, 0) else set()
            masked |= set(range(person.token_start, person.token_end))
        low, high = record.clause if record.clause and parse is parses[record.segment[0]] else (0, len(parse.tokens))
        visible = [t for i, t in enumerate(parse.tokens) if i not in masked and low <= i < high]
        topics |= cue_topics(lang, visible)
        later = persons_only and parse.sentence.index > record.segment[0] and not parse.planned
        if org_officials or later:
            for agent in parse.agents:
                if agent.kind == "org" and agent.context == "free" and f"org:{agent.key}" not in participants \
                        and (org_officials or agent.key not in hosts):
                    topics.add("multilateral")  # talks about organisations
        if _bilateral_compound(lang, parse):
            topics.add("bilateral-relations")
    return topics


def _bilateral_compound(lang: str, parse: SentenceParse) -> bool:
    """A hyphenated pair of state adjectives ("казахско-египетский") speaks of bilateral relations."""
    lexicon = compound_lexicon(lang)
    if not lexicon.phrases:
        return False
    for token in parse.tokens:
        if "-" not in token.surface:
            continue
        head = token.surface.split("-")[0]
        if lexicon.find([Token(token.start, token.start + len(head), head)]):
            return True
    return False

