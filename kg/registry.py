"""The registry of states, international organisations and cities (``kg/data/registry/``).

Entities are labelled ``kind:key`` in lexicons: ``state:KZ``, ``state-adj:KZ``,
``org:osce``, ``city:astana``. Names are matched with the language's normaliser, acronyms
case-sensitively (a Latin acronym is tried in every language).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, lru_cache

from kg.lang import DATA_DIR, load_yaml
from kg.lexicon import Lexicon

REGISTRY_DIR = DATA_DIR / "registry"


@dataclass(frozen=True)
class Entry:
    kind: str  # state | org | city
    key: str
    wikidata: str | None = None
    names: dict[str, list[str]] = field(default_factory=dict)
    acronyms: dict[str, list[str]] = field(default_factory=dict)
    adjectives: dict[str, list[str]] = field(default_factory=dict)
    compounds: dict[str, list[str]] = field(default_factory=dict)
    parent: str | None = None
    country: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.key}"

    def preferred(self, lang: str) -> str | None:
        for source in (self.names, self.acronyms):
            values = source.get(lang) or []
            if values:
                return values[0]
        return None

    def all_names(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for source in (self.names, self.acronyms):
            for lang, values in source.items():
                out.setdefault(lang, []).extend(v for v in values or [] if v not in out.get(lang, []))
        return out


def _load(name: str) -> dict:
    path = REGISTRY_DIR / name
    return (load_yaml(path) or {}) if path.exists() else {}


@lru_cache(maxsize=1)
def entries() -> dict[str, Entry]:
    """Every registry entry by label (``state:KZ``...)."""
    out: dict[str, Entry] = {}
    for code, data in sorted(_load("states.yaml").items()):
        out[f"state:{code}"] = Entry(
            "state", str(code), data.get("wikidata"), data.get("names") or {}, data.get("acronyms") or {},
            data.get("adjectives") or {}, data.get("compounds") or {},
        )
    for key, data in sorted(_load("organizations.yaml").items()):
        out[f"org:{key}"] = Entry(
            "org", str(key), data.get("wikidata"), data.get("names") or {}, data.get("acronyms") or {},
            parent=data.get("parent"),
        )
    for key, data in sorted(_load("regions.yaml").items()):
        out[f"region:{key}"] = Entry("region", str(key), data.get("wikidata"), data.get("names") or {})
    for key, data in sorted(_load("cities.yaml").items()):
        if data.get("ambiguous"):
            continue
        out[f"city:{key}"] = Entry("city", str(key), data.get("wikidata"), data.get("names") or {},
                                   country=data.get("country"))
    return out


def entry(label: str) -> Entry | None:
    return entries().get(label)


@cache
def entity_lexicon(lang: str) -> Lexicon:
    """Names of states, organisations and cities, and state adjectives, in ``lang``."""
    names: dict[str, list[str]] = {}
    for label, item in entries().items():
        langs = [lang] if lang == "en" else [lang, "en"] if item.kind == "org" else [lang]
        for source_lang in langs:
            names.setdefault(label, []).extend(item.names.get(source_lang) or [])
        if item.kind == "state":
            names.setdefault(f"state-adj:{item.key}", []).extend(
                form for adjective in item.adjectives.get(lang) or [] for form in adjective_forms(lang, adjective)
            )
    return Lexicon.build(lang, {k: _dedupe(v) for k, v in names.items() if v})


def adjective_forms(lang: str, adjective: str) -> list[str]:
    """Every form of a state adjective the language's profile knows how to make.

    >>> adjective_forms("mk", "казахстански")[:4]
    ['казахстански', 'казахстанска', 'казахстанско', 'казахстанскиот']
    >>> adjective_forms("ar", "كازاخستاني")
    ['كازاخستاني', 'كازاخستانية', 'كازاخستانيون', 'كازاخستانيين']
    """
    from kg.lang import profile

    rule = profile(lang).get("adjective_forms") or {}
    strip = str(rule.get("strip") or "")
    endings = [str(e) for e in rule.get("endings") or []]
    if not endings or (strip and not adjective.endswith(strip)):
        return [adjective]
    stem = adjective[: len(adjective) - len(strip)] if strip else adjective
    words = adjective.split()
    if len(words) > 1:
        return [adjective]
    return [stem + ending for ending in endings]


@lru_cache(maxsize=1)
def acronym_lexicon() -> Lexicon:
    """Acronyms of every language, matched case-sensitively in any text."""
    acronyms: dict[str, list[str]] = {}
    for label, item in entries().items():
        for values in item.acronyms.values():
            acronyms.setdefault(label, []).extend(v for v in values or [] if v)
    return Lexicon.build("xx", {k: _dedupe(v) for k, v in acronyms.items()}, case_sensitive=True)


@cache
def compound_lexicon(lang: str) -> Lexicon:
    """First halves of hyphenated state compounds ("казахско-" in "казахско-египетский")."""
    return Lexicon.build(
        lang, {f"state:{item.key}": item.compounds.get(lang) or [] for item in entries().values()
               if item.kind == "state" and item.compounds.get(lang)}
    )


def _dedupe(values: list[str]) -> list[str]:
    seen: list[str] = []
    for v in values:
        if v and v not in seen:
            seen.append(v)
    return seen
