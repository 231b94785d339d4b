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


def load_yaml(path: Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


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
