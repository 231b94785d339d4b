"""Coverage-guided fuzzing (atheris) of the functions that read untrusted text; run on demand.

The same properties as ``tests/test_fuzz.py``, for as long as you like:

- ``decode`` + ``parse_document`` on any bytes raise nothing but :class:`kg.errors.ArticleError`;
- ``find_dates`` never raises, and what it resolves is a real calendar date;
- ``skeleton`` / ``latin`` never raise;
- ``mint`` gives an IRI without characters N-Triples forbids, or :class:`kg.iri.IRIError`.

    pip install atheris
    .venv/bin/python benchmarks/fuzz_ingest.py -atheris_runs=200000      # libFuzzer options work
    .venv/bin/python benchmarks/fuzz_ingest.py -max_total_time=600 corpus/  # keep a corpus

A crash prints the input and writes it as ``crash-<sha1>`` (libFuzzer), to replay with
``benchmarks/fuzz_ingest.py crash-<sha1>``. ``--skip-known`` leaves out Tangut letters (U+17000-U+187F7),
which crashed pymorphy3 until 26f27a7, should a known crash need to be set aside again.
"""

from __future__ import annotations

import datetime as _dt
import re
import sys

import atheris

with atheris.instrument_imports():
    from kg.dates import find_dates
    from kg.errors import ArticleError
    from kg.identity import latin, skeleton
    from kg.ingest import decode, parse_document
    from kg.iri import IRIError, mint
    from kg.model import PartialDate

LANGS = ("ar", "en", "mk", "ru")
KINDS = ("person", "meeting", "article", "state", "org", "city", "topic", "role", "place")
_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_TANGUT = re.compile("[\U00017000-\U000187f7\U00018d00-\U00018d08]")
SKIP_KNOWN = "--skip-known" in sys.argv


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    choice = fdp.ConsumeIntInRange(0, 3)
    if choice == 0:
        raw = fdp.ConsumeBytes(fdp.remaining_bytes())
        try:
            text, warnings = decode("fuzz.txt", raw)
            if SKIP_KNOWN and _TANGUT.search(text):
                return
            parse_document("fuzz", "fuzz.txt", text, warnings)
        except ArticleError:
            pass
        return
    lang = LANGS[fdp.ConsumeIntInRange(0, len(LANGS) - 1)]
    if choice == 1:
        ordinal = fdp.ConsumeIntInRange(_dt.date(1, 1, 1).toordinal(), _dt.date(9999, 12, 31).toordinal())
        reference = PartialDate.from_date(_dt.date.fromordinal(ordinal)) if fdp.ConsumeBool() else None
        text = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
        if SKIP_KNOWN and _TANGUT.search(text):
            return
        for mention in find_dates(lang, text):
            resolved = mention.resolve(reference)
            if resolved is not None and resolved.day is not None:
                _dt.date(resolved.year, resolved.month, resolved.day)
        return
    if choice == 2:
        text = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
        latin(text)
        if not re.fullmatch(r"[A-Z]*", skeleton(text)):
            raise AssertionError(f"skeleton of {text!r} is not upper-case Latin")
        return
    kind = KINDS[fdp.ConsumeIntInRange(0, len(KINDS) - 1)]
    key = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
    try:
        iri = str(mint(kind, key))
    except IRIError:
        return
    if _FORBIDDEN.search(iri) or not iri.startswith("https://w3id.org/diplograph/"):
        raise AssertionError(f"mint({kind!r}, {key!r}) gave {iri!r}")


def main() -> None:
    argv = [arg for arg in sys.argv if arg != "--skip-known"]
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
