"""Golden cases: one folder per case under ``tests/cases/`` with ``article.txt`` and ``expected.ttl``.

The article is built alone (no ontology) and compared with the expected triples by graph
isomorphism; a failure prints what is missing and what is extra, triple by triple.
To (re)write an expected graph after checking the output by hand:
``.venv/bin/python -m tests.test_cases tests/cases/NAME``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from kg.extract import extract
from kg.ingest import read_document
from kg.pipeline import to_graph
from kg.serialize import turtle_bytes

CASES = Path(__file__).parent / "cases"


def build_case(folder: Path) -> Graph:
    doc = read_document(folder / "article.txt")
    return to_graph([extract(doc)], with_ontology=False)


def _readable(graph: Graph) -> str:
    return "\n".join(sorted(f"  {s.n3()} {p.n3()} {o.n3()}" for s, p, o in graph))


@pytest.mark.parametrize("folder", sorted(p for p in CASES.iterdir() if (p / "article.txt").exists()),
                         ids=lambda p: p.name)
def test_case(folder: Path):
    expected = Graph().parse(folder / "expected.ttl", format="turtle")
    actual = build_case(folder)
    if not isomorphic(expected, actual):
        _, missing, extra = graph_diff(to_isomorphic(expected), to_isomorphic(actual))
        pytest.fail(f"{folder.name}: graphs differ\nmissing:\n{_readable(missing)}\nextra:\n{_readable(extra)}")


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        target = Path(arg)
        (target / "expected.ttl").write_bytes(turtle_bytes(build_case(target)))
        print(f"wrote {target / 'expected.ttl'}")
