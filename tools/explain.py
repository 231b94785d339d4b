"""Show what the extractor read in an article: sentences, mentions, and meetings.

    .venv/bin/python tools/explain.py seeds/003_80a9736044a836b5.txt
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg.extract import extract
from kg.ingest import read_document


def explain(path: Path) -> None:
    doc = read_document(path)
    ex = extract(doc)
    print(f"# {doc.id} lang={doc.language} published={doc.published} dateline={doc.dateline}")
    for m in ex.mentions:
        if m.kind == "person":
            roles = "; ".join(f"{r.key}[{r.affiliation}]" for r in m.roles)
            print(f"  s{m.sentence} person {m.name.label!r} ({m.context}) {roles}")
        else:
            print(f"  s{m.sentence} {m.kind} {m.key} ({m.context}) {m.text!r}")
    for pid, person in ex.persons.items():
        print(f"  {pid}: {person.name.label} forms={sorted(person.forms)} aff={sorted(person.affiliations)}")
    for r in ex.meetings:
        parts = [p.key if p.kind != "person" else ex.persons[p.key].name.label for p in r.participants]
        print(f"  MEETING {parts} {r.mode} {r.date and r.date.iso()} {r.place} {sorted(r.topics)} seg={r.segment}")


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        explain(Path(arg))
