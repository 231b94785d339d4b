"""Language identification: one of the supported languages, or ``"unknown"`` — never a guess.

lingua-language-detector tells Macedonian, Russian, Bulgarian, Serbian and Kazakh apart
(measured on these machines). It is asked to choose among the supported languages *and*
their usual confusers, so a Bulgarian or Persian article comes back as unknown instead of
being forced into Russian or Arabic.
"""

from __future__ import annotations

from functools import lru_cache

from kg.lang import supported_languages

_CONFUSERS = ("bg", "sr", "uk", "be", "kk", "fa", "ur", "fr", "de", "es", "it", "pt", "tr", "nl", "pl", "az")
MIN_LETTERS = 40
MIN_CONFIDENCE = 0.5
#: Characters of the text the detector reads: on 470 articles (seeds, dev set, golden cases, generated corpus),
#: 1,500 already gave the same answers as 4,000 at half the cost; detection is most of the cost of reading.
SAMPLE_CHARS = 2000


@lru_cache(maxsize=1)
def _detector():
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    codes = set(supported_languages()) | set(_CONFUSERS)
    languages = []
    for code in sorted(codes):
        try:
            languages.append(Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())))
        except (AttributeError, ValueError):
            continue
    return LanguageDetectorBuilder.from_languages(*languages).build()


def detect_language(text: str) -> str:
    """ISO 639-1 code of ``text`` if it is a supported language, else ``"unknown"``.

    >>> detect_language("Министерот за надворешни работи денеска имаше средба со претседателот.")
    'mk'
    >>> detect_language("Министр иностранных дел провел переговоры с послом.")
    'ru'
    >>> detect_language("Министърът на външните работи проведе среща с посланика.")
    'unknown'
    >>> detect_language("12345 !!!")
    'unknown'
    """
    letters = sum(ch.isalpha() for ch in text)
    if letters < MIN_LETTERS:
        return "unknown"
    sample = text[:SAMPLE_CHARS]
    confidences = _detector().compute_language_confidence_values(sample)
    if not confidences:
        return "unknown"
    best = confidences[0]
    code = best.language.iso_code_639_1.name.lower()
    if code not in supported_languages() or best.value < MIN_CONFIDENCE:
        return "unknown"
    return code
