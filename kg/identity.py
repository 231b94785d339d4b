"""One identity per real person across articles, languages and scripts.

Names are compared through a script-independent consonant skeleton: Cyrillic is
transliterated (Russian and Macedonian letters both), Arabic letters map to the consonant
classes of their Latin transcriptions, vowels and the glides y/j/w are dropped, and letters
that languages render differently (d/t, v/f, q/k/g) share a class; h/kh and zh/j/dzh, which
scripts disagree on most ("Жомарт", "Јомарт", "جومارت"; "Абдрахманов", "عبد الرحمنوف"), are dropped. Two persons
merge when their surname skeletons agree, their first names (where both have one) agree, and
nothing they are said to be contradicts it (different states they work for). A surname seen
alone merges with the one full name it fits; where several fit, it stays apart with a
``dg:possiblySame`` link.

>>> skeleton("Nurtleu") == skeleton("نورتليو") == skeleton("نورتلو") == skeleton("Нуртлеу")
True
>>> skeleton("Tokayev") == skeleton("Токајев") == skeleton("توكاييف") == skeleton("Токаев")
True
>>> skeleton("Jomart") == skeleton("Јомарт") == skeleton("جومارت") == skeleton("Жомарт")
True
>>> skeleton("Askar") == skeleton("خيرت")
False
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from kg.model import ArticleExtraction, PersonEntity, in_document_order
from kg.text import fold

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ѓ": "gj", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "ѕ": "dz", "и": "i", "й": "y", "ј": "j", "к": "k", "л": "l", "љ": "l", "м": "m", "н": "n", "њ": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "ќ": "kj", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "џ": "dzh", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ў": "u", "қ": "k", "ғ": "g", "ң": "n", "ө": "o", "ұ": "u",
    "ү": "u", "һ": "h", "ә": "a",
}
_ARABIC = {
    "ا": "", "ب": "b", "ت": "t", "ث": "s", "ج": "j", "ح": "h", "خ": "kh", "د": "d", "ذ": "z", "ر": "r",
    "ز": "z", "س": "s", "ش": "sh", "ص": "s", "ض": "d", "ط": "t", "ظ": "z", "ع": "", "غ": "g", "ف": "f",
    "ق": "k", "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h", "و": "", "ي": "", "ى": "", "ة": "",
    "ء": "", "پ": "p", "چ": "ch", "ژ": "zh", "ڤ": "v", "گ": "g", "ک": "k", "ی": "",
}
# Latin letter groups that transcriptions of one name render differently.
_CLASSES = [
    ("shch", "S"), ("dzh", ""), ("zh", ""), ("kh", ""), ("tsh", "C"), ("tch", "C"), ("sh", "S"), ("ch", "C"),
    ("ts", "S"), ("dz", "S"),
    ("gj", ""), ("kj", "C"), ("ph", "F"), ("th", "T"), ("ck", "K"), ("x", "KS"),
    ("b", "B"), ("p", "B"), ("v", "F"), ("f", "F"), ("w", "F"), ("d", "T"), ("t", "T"), ("z", "S"),
    ("s", "S"), ("g", "K"), ("k", "K"), ("q", "K"), ("c", "K"), ("j", ""), ("y", ""), ("h", ""),
    ("l", "L"), ("m", "M"), ("n", "N"), ("r", "R"),
]


def latin(text: str) -> str:
    """A Latin transcription of a name in any supported script (lower case).

    >>> latin("Касим Јомарт Токајев")
    'kasim jomart tokajev'
    """
    out = []
    for ch in fold(text):
        if ch in _CYRILLIC:
            out.append(_CYRILLIC[ch])
        elif ch in _ARABIC:
            out.append(_ARABIC[ch])
        else:
            out.append(ch)
    decomposed = unicodedata.normalize("NFKD", "".join(out))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


#: "Father of" and "son of", which begin many Arabic family names and which transcriptions spell apart, run
#: into the article ("Aboul Gheit", "أبو الغيط", "Абуль Гейт") or leave out of the surname ("bin Abdullah" /
#: "Abdullah"): a skeleton leaves them out before another word.
_ABU = frozenset({"abu", "abou", "aboul", "abul", "abo", "ابو", "أبو", "абу", "абуль", "абул",
                  "bin", "ibn", "بن", "ابن", "бин", "ибн", "бен"})


@lru_cache(maxsize=200_000)
def skeleton(name: str, without_w: bool = False) -> str:
    """The consonant skeleton of a name token in any script (``without_w``: with no consonant for the
    letters v and w, see :func:`_loose_surname`).

    >>> skeleton("Aboul Gheit") == skeleton("أبو الغيط") == skeleton("Абуль Гейт")
    True
    >>> skeleton("Kenichiro") == skeleton("كينيتشيرو") == skeleton("Кэнитиро")
    False
    >>> skeleton("Kenichiro") == skeleton("كينيتشيرو")
    True
    >>> skeleton("بن عبدالله") == skeleton("Abdullah")
    True
    """
    words = fold(name).split()
    words = [w for i, w in enumerate(words) if not (w in _ABU and i + 1 < len(words))]
    words = [w[2:] if w.startswith("ال") and len(w) > 4 else w for w in words]
    words = [re.sub(r"^(al|el|аль|эль|ал|ел)-", "", w) for w in words]
    text = re.sub(r"[^a-z]", "", latin(" ".join(words)))
    out = []
    i = 0
    while i < len(text):
        for letters, cls in _CLASSES:
            if text.startswith(letters, i):
                out.append("" if without_w and letters in ("v", "w") else cls)
                i += len(letters)
                break
        else:
            i += 1  # a vowel
    collapsed = re.sub(r"(.)\1+", r"\1", "".join(out))
    return collapsed


@dataclass
class GlobalPerson:
    key: str
    members: list[tuple[str, str]] = field(default_factory=list)  # (article id, local id)
    possibly_same: set[str] = field(default_factory=set)


def _surname_skeleton(person: PersonEntity) -> str:
    return skeleton(person.name.surname)


def _given_skeleton(person: PersonEntity) -> str | None:
    return skeleton(person.name.given[0]) if person.name.given else None


def _states(person: PersonEntity) -> set[str]:
    return {a for a in person.affiliations if a.startswith("state:")}


def link_persons(extractions: Iterable[ArticleExtraction]) -> tuple[dict[tuple[str, str], str], dict[str, set[str]]]:
    """Map every (article, local person) to a global person key; and the weak "possibly same" links.

    A person joins a cluster only when compatible with every member; members are compared through their
    distinct :func:`_signature` values, so a name seen in thousands of articles costs one comparison per
    distinct way it was written, not one per sighting."""
    people = [
        (ex.document.id, pid, person)
        for ex in in_document_order(extractions)
        for pid, person in sorted(ex.persons.items())
    ]
    clusters: list[list[tuple[str, str, PersonEntity]]] = []
    signatures: list[list[int]] = []  # per cluster: its members' distinct signatures (as numbers), in order
    signature_sets: list[set[int]] = []
    articles: list[set[str]] = []
    by_surname: dict[str, list[int]] = {}  # only persons with one (loose) surname skeleton can be one person
    buckets_of: list[list[str]] = []  # per cluster: the surname buckets it is in
    gained: dict[str, list[int]] = {}  # per bucket: its clusters, each time one gained a signature, in order

    chains: list[set[tuple[str, ...]]] = []  # per cluster: the name chains of its members (see _chain)
    by_chain: dict[tuple[str, ...], list[int]] = {}  # clusters by the first two links of a long chain

    # A signature is a number here, one per distinct signature (a name written one way, with one set of
    # states): a popular official's thousands of sightings share a few. Each sighting's number, chain and
    # surname bucket are worked out once.
    numbers: dict[tuple, int] = {}
    distinct: list[_Signature] = []
    chain_of: dict[str, tuple[str, ...]] = {}

    def signature(person: PersonEntity) -> int:
        name = person.name
        written = (name.surname, name.given, frozenset(_states(person)) if person.roles else frozenset())
        found = numbers.get(written)
        if found is None:
            found = numbers[written] = len(distinct)
            distinct.append(_signature(person))
        return found

    def chain(person: PersonEntity) -> tuple[str, ...]:
        found = chain_of.get(person.name.label)
        if found is None:
            found = chain_of[person.name.label] = _chain(person)
        return found

    # (signature, cluster, by chain) -> (how many of the cluster's signatures were compared, all compatible)
    verdicts: dict[tuple[int, int, bool], tuple[int, bool]] = {}

    def fits(mine: int, k: int, by_chain_only: bool = False) -> bool:
        """Whether signature ``mine`` is compatible with every distinct signature of cluster ``k``:
        remembered, and on the next question compared only with the signatures the cluster gained since (a
        verdict of no stays no)."""
        theirs = signatures[k]
        known = verdicts.get((mine, k, by_chain_only))
        if known is not None and (not known[1] or known[0] == len(theirs)):
            return known[1]
        ours = distinct[mine]
        fit = all(_signatures_compatible(ours, distinct[other], by_chain_only)
                  for other in theirs[known[0] if known is not None else 0:])
        verdicts[(mine, k, by_chain_only)] = (len(theirs), fit)
        return fit

    def file_under(key: str, k: int) -> None:
        by_surname.setdefault(key, []).append(k)
        buckets_of[k].append(key)

    def join(k: int, item: tuple[str, str, PersonEntity], number: int, its_chain: tuple[str, ...]) -> None:
        clusters[k].append(item)
        if number not in signature_sets[k]:
            signature_sets[k].add(number)
            signatures[k].append(number)
            for key in buckets_of[k]:
                gained.setdefault(key, []).append(k)
        articles[k].add(item[0])
        if len(its_chain) >= MIN_CHAIN and its_chain not in chains[k]:
            chains[k].add(its_chain)
            by_chain.setdefault(its_chain[:2], []).append(k)

    def same_chain(chain: tuple[str, ...], k: int) -> bool:
        return any(other[:len(chain)] == chain or chain[:len(other)] == other for other in chains[k])

    def open_cluster(key: str, item: tuple[str, str, PersonEntity], number: int, its_chain: tuple[str, ...]) -> int:
        clusters.append([])
        signatures.append([])
        signature_sets.append(set())
        articles.append(set())
        chains.append(set())
        buckets_of.append([])
        join(len(clusters) - 1, item, number, its_chain)
        file_under(key, len(clusters) - 1)  # (after its first member: a new cluster is new to the bucket anyway)
        return len(clusters) - 1

    # (signature, surname bucket) -> where in the bucket the first cluster that fitted was: the clusters before
    # it did not fit, and never will (a bucket only grows at its end, a cluster's signatures only grow)
    scanned: dict[tuple[int, str], int] = {}

    def first_fitting(number: int, key: str) -> int | None:
        bucket = by_surname.get(key, [])
        start = scanned.get((number, key), 0)
        position = next((i for i in range(start, len(bucket)) if fits(number, bucket[i])), len(bucket))
        scanned[(number, key)] = position
        return bucket[position] if position < len(bucket) else None

    full, bare = [], []
    for item in people:
        number = signature(item[2])
        (full if item[2].name.given else bare).append((item, number, _loose(distinct[number][0])))
    for item, number, key in full:
        target = first_fitting(number, key)
        its_chain = chain(item[2])
        if target is None and len(its_chain) >= MIN_CHAIN:
            target = next((k for k in dict.fromkeys(by_chain.get(its_chain[:2], []))
                           if same_chain(its_chain, k) and fits(number, k, by_chain_only=True)), None)
            if target is not None and target not in by_surname.get(key, []):
                file_under(key, target)  # its surname alone finds the person too
        if target is None:
            target = open_cluster(key, item, number, its_chain)
        else:
            join(target, item, number, its_chain)
        tail = distinct[number][7]
        if tail and target not in by_surname.get(_loose(tail), []):
            file_under(_loose(tail), target)  # "Abdollahian" alone finds "Amir-Abdollahian"
    possibly: dict[int, set[int]] = {}
    # (signature, surname bucket) -> how much of the bucket was looked at, how many of its clusters' gains were
    # seen, and the clusters that fitted (in the bucket's order): those that did not never will, those that
    # did are asked again once they gained a signature
    fitted: dict[tuple[int, str], tuple[int, int, list[int]]] = {}

    def all_fitting(number: int, key: str) -> list[int]:
        bucket = by_surname.get(key, [])
        gains = gained.get(key, [])
        looked, seen, before = fitted.get((number, key), (0, 0, []))
        if looked == len(bucket) and seen == len(gains):
            return before
        dropped = {k for k in set(gains[seen:]) if not fits(number, k)}
        found = [k for k in before if k not in dropped] + [k for k in bucket[looked:] if fits(number, k)]
        fitted[(number, key)] = (len(bucket), len(gains), found)
        return found

    for item, number, key in bare:
        candidates = all_fitting(number, key)
        same_article = [k for k in candidates if item[0] in articles[k]]
        chosen = same_article if len(same_article) == 1 else candidates
        its_chain = chain(item[2])
        if len(chosen) == 1:
            join(chosen[0], item, number, its_chain)
        else:
            new = open_cluster(key, item, number, its_chain)
            if chosen:
                possibly[new] = set(chosen)
    mapping: dict[tuple[str, str], str] = {}
    keys: list[str] = []
    for cluster in clusters:
        key = _cluster_key(cluster)
        keys.append(key)
        for article, pid, _ in cluster:
            mapping[(article, pid)] = key
    links = {keys[a]: {keys[b] for b in bs} for a, bs in possibly.items()}
    return mapping, links


_Signature = tuple[str, str | None, bool, str, frozenset[str], bool, str, str]


def _signature(person: PersonEntity) -> _Signature:
    """Everything :func:`_compatible` reads of a person: equal signatures compare equally with anyone."""
    given = person.name.given[0] if person.name.given else None
    initial_letter = latin(given)[:1] if given is not None else ""
    return (_surname_skeleton(person), _given_skeleton(person), given is not None and _is_initial(given),
            initial_letter, frozenset(_states(person)), _is_arabic(person.name.surname),
            _loose_surname(person.name.surname), _surname_tail(person.name.surname))


#: A double surname's last part must have at least this many consonants to stand for the whole name.
MIN_TAIL = 4


def _surname_tail(surname: str) -> str:
    """The skeleton of the last part of a double surname ("Amir-Abdollahian" -> that of "Abdollahian"), which
    articles often use alone; "" for a single surname."""
    parts = [part for part in re.split(r"[-‐‑\s]+", surname) if part and fold(part) not in _ABU]
    tail = skeleton(parts[-1]) if len(parts) >= 2 else ""
    return tail if len(tail) >= MIN_TAIL else ""


MIN_SKELETON = 3


def _is_initial(word: str) -> bool:
    return len(word.rstrip(".")) == 1


def _is_arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


def _loose(surname_skeleton: str) -> str:
    """A skeleton without any v/f/w consonant: the bucket in which surnames are compared (a superset of the
    persons :func:`_loose_surname` can join)."""
    return surname_skeleton.replace("F", "")


def _loose_surname(surname: str) -> str:
    """The skeleton of a surname without the consonants v and w: Arabic writes w, and often v, with و, a
    letter that is also the vowels o and u, so an Arabic transcription may keep or lose them ("كاميكاوا" ~
    "Kamikawa"); f is always ف, so it stays ("Фавзи" is not "شياع")."""
    return skeleton(surname, without_w=True)


def _compatible(a: PersonEntity, b: PersonEntity) -> bool:
    return _signatures_compatible(_signature(a), _signature(b))


#: Names of at least this many parts (particles aside) are compared as chains too (see :func:`_chain`).
MIN_CHAIN = 3


def _chain(person: PersonEntity) -> tuple[str, ...]:
    """The skeletons of a name's parts without particles ("bin", "al-", "abu"): Arab names are chains of
    given name, father's name, grandfather's or family name, which articles cut at different lengths
    ("Salem Abdullah Al-Jaber" and "Salem Abdullah Al-Jaber Al-Sabah"). One chain that begins another of at
    least :data:`MIN_CHAIN` parts names the same person."""
    parts = [skeleton(word) for word in person.name.label.split() if fold(word) not in _ABU]
    return tuple(part for part in parts if part)


def _signatures_compatible(a: _Signature, b: _Signature, by_chain: bool = False) -> bool:
    """Whether two persons can be one (``by_chain``: their name chains agree, so surnames are not compared)."""
    surname_a, given_a, initial_a, letter_a, states_a, arabic_a, loose_a, tail_a = a
    surname_b, given_b, initial_b, letter_b, states_b, arabic_b, loose_b, tail_b = b
    if by_chain:
        return given_a == given_b and not (states_a and states_b and not states_a & states_b)
    if not surname_a or not surname_b:
        return False
    surname = surname_a
    if (given_a is None and tail_b and surname_a == tail_b) or (given_b is None and tail_a and surname_b == tail_a):
        return not (states_a and states_b and not states_a & states_b)  # a double surname's last part alone
    if surname_a != surname_b:
        surname = loose_a
        if arabic_a == arabic_b or len(surname) < 2 or surname != loose_b:
            return False
    if len(surname) < MIN_SKELETON and (given_a is None or given_b is None):
        return False  # a short skeleton ("NS", "TL") alone says too little
    if given_a is not None and given_b is not None:
        if initial_a or initial_b:
            if letter_a != letter_b:
                return False
        elif given_a != given_b:
            return False
    return not (states_a and states_b and not states_a & states_b)


def _cluster_key(cluster: list[tuple[str, str, PersonEntity]]) -> str:
    """A stable key for a person: the fullest Latin transcription of their name, plus the first sighting."""
    best = max(cluster, key=lambda item: (len(item[2].name.label.split()), item[2].name.label.isascii(),
                                          -ord(item[0][0]) if item[0] else 0))
    first = min(f"{article}/{pid}" for article, pid, _ in cluster)
    return f"{latin(best[2].name.label)}|{skeleton(best[2].name.surname)}|{first}"
