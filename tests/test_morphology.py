"""Russian readings (pymorphy3) are the same whichever DAWG implementation pymorphy3 finds: the compiled
``dawg`` module (DAWG2, installed where a wheel exists) or the pure-Python ``dawg_python`` it falls back to."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import kg
from kg.normalise import _russian_lemmas
from kg.text import fold

DATA = Path(kg.__file__).parent / "data"
SAMPLE_TEXT = (Path(__file__).resolve().parent.parent / "seeds").glob("*.txt")

_READINGS = """
import json, sys
sys.modules["dawg"] = None  # pymorphy3 then takes dawg_python
from kg.normalise import _russian_lemmas
import pymorphy3.dawg
assert pymorphy3.dawg.DAWG.__module__.startswith("dawg_python"), pymorphy3.dawg.DAWG.__module__
words = json.load(sys.stdin)
json.dump({word: list(_russian_lemmas(word)) for word in words}, sys.stdout)
"""


def _russian_words() -> list[str]:
    """Every Cyrillic word of the lexicons (all languages' data: Russian names appear in the registry) and of
    the seed articles, folded."""
    texts = [path.read_text(encoding="utf-8") for path in sorted(DATA.rglob("*.yaml"))]
    texts += [path.read_text(encoding="utf-8") for path in sorted(SAMPLE_TEXT)]
    return sorted({fold(word) for text in texts for word in re.findall(r"[А-Яа-яЁё]+", text)})


def test_the_compiled_dawg_reads_russian_as_the_pure_python_one():
    pytest.importorskip("dawg", reason="DAWG2 has no wheel for this platform: pymorphy3 uses dawg_python only")
    import pymorphy3.dawg

    assert pymorphy3.dawg.DAWG.__module__ == "dawg"  # this process: the compiled one
    words = _russian_words()
    assert len(words) > 1000
    here = {word: list(_russian_lemmas(word)) for word in words}
    found = subprocess.run([sys.executable, "-c", _READINGS], input=json.dumps(words), capture_output=True,
                           text=True, check=True)
    assert json.loads(found.stdout) == here
