"""Language data: loads ``kg/data/lang/<code>/*.yaml`` into lexicons, once per process.

Adding a language means adding its folder; nothing here names a language.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from kg.lexicon import Lexicon
from kg.normalise import lexicon_key

DATA_DIR = Path(str(resources.files("kg") / "data"))
LANG_DIR = DATA_DIR / "lang"


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser where PyYAML has it: ~10x faster


class _DataLoader(_SafeLoader):
    """YAML for word lists: ``on``, ``no``, ``yes`` and ``off`` stay words, not booleans."""


_DataLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(path: Path) -> Any:
    """Load a data file; every scalar word stays a string (``on`` is the preposition)."""
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_DataLoader)  # noqa: S506 - a SafeLoader subclass


@cache
def supported_languages() -> tuple[str, ...]:
    """Codes of the languages that have a ``profile.yaml``."""
    return tuple(sorted(p.parent.name for p in LANG_DIR.glob("*/profile.yaml")))


@cache
def profile(code: str) -> dict[str, Any]:
    return load_yaml(LANG_DIR / code / "profile.yaml") or {}


def _optional(code: str, name: str) -> Any:
    path = LANG_DIR / code / name
    return load_yaml(path) if path.exists() else None


def flag(value: Any, default: bool = False) -> bool:
    """A yes/no setting of a data file (scalars are strings there)."""
    if value is None:
        return default
    return str(value).strip().lower() in ("true", "yes", "on", "1")


@dataclass(frozen=True)
class LanguageData:
    code: str
    topics: Lexicon
    titles: Lexicon
    honorifics: Lexicon
    name_particles: frozenset[str]
    stopwords: frozenset[str]
    meetings: dict[str, Lexicon]
    settings: dict[str, Any]


@cache
def language(code: str) -> LanguageData:
    """All lexicons of language ``code``."""
    topics = _optional(code, "topics.yaml") or {}
    titles = _optional(code, "titles.yaml") or {}
    stop = _optional(code, "stopwords.yaml") or {}
    meetings = _optional(code, "meetings.yaml") or {}
    lexicons = {
        name: Lexicon.build(code, entries)
        for name, entries in meetings.items()
        if isinstance(entries, dict) and name != "settings"
    }
    return LanguageData(
        code=code,
        topics=Lexicon.build(code, topics),
        titles=Lexicon.build(code, titles.get("roles") or {}),
        honorifics=Lexicon.build(code, {"honorific": titles.get("honorifics") or []}),
        name_particles=frozenset(lexicon_key(code, w) for w in titles.get("name_particles") or []),
        stopwords=frozenset(lexicon_key(code, w) for w in stop.get("stopwords") or []),
        meetings=lexicons,
        settings=meetings.get("settings") or {},
    )
