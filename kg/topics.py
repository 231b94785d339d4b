"""Topic notations from cue phrases (``kg/data/lang/<code>/topics.yaml``).

>>> sorted(topics_in_text("en", "The sides discussed counter-terrorism and illegal migration."))  # doctest: +SKIP
['migration', 'terrorism']
"""

from __future__ import annotations

from collections.abc import Sequence

from kg.lang import language
from kg.text import Token, tokenize


def cue_topics(lang: str, tokens: Sequence[Token]) -> set[str]:
    """Notations whose cues occur in ``tokens`` (longest cue wins, so "trafficking in human beings"
    is human-trafficking and not trade)."""
    return {m.label for m in language(lang).topics.find(tokens) if m.label != "none"}


def topics_in_text(lang: str, text: str) -> set[str]:
    return cue_topics(lang, tokenize(text))
