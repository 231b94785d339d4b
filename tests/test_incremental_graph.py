"""A rebuild in place (kg.incremental) writes the bytes of a clean build: random series of added, changed,
deleted and renamed articles over a generated corpus whose officials recur (so people merge and split, their
keys move, meetings regroup, shared entities come and go) and the seeds."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

import kg.incremental
from kg.cache import CACHE_DIR
from kg.incremental import STATE_FILE, load_state
from kg.iri import mint
from kg.pipeline import build
from tests.test_incremental import _store_triples
from tests.test_parallel import _corpus_module

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> dict[str, str]:
    """File name -> text: 60 short generated articles over 12 officials, and the seeds."""
    folder = tmp_path_factory.mktemp("pool")
    _corpus_module().generate(60, folder, seed=11, size=(500, 900), persons=12)
    texts = {path.name: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.txt"))}
    texts.update({path.name: path.read_text(encoding="utf-8") for path in sorted((ROOT / "seeds").glob("*.txt"))})
    return texts


def _build(source: Path, out: Path, **options):
    return build(source, out, progress=lambda message: None, **{"html": False, "jobs": 1, **options})


def _step(rng: random.Random, source: Path, pool: dict[str, str]) -> None:
    """Add, delete, change and rename a few articles (at least one thing changes)."""
    before = {path.name: path.read_bytes() for path in source.glob("*.txt")}
    _changes(rng, source, pool)
    if {path.name: path.read_bytes() for path in source.glob("*.txt")} == before:
        (source / sorted(before)[0]).unlink()


def _changes(rng: random.Random, source: Path, pool: dict[str, str]) -> None:
    present = sorted(path.name for path in source.glob("*.txt"))
    absent = sorted(set(pool) - set(present))
    for name in rng.sample(absent, min(len(absent), rng.randint(0, 4))):
        (source / name).write_text(pool[name], encoding="utf-8")
    for name in rng.sample(present, min(len(present) - 1, rng.randint(0, 3))):
        (source / name).unlink()
    survivors = sorted(path.name for path in source.glob("*.txt"))
    if survivors and rng.random() < 0.6:  # an article changes: another's text under its name
        (source / rng.choice(survivors)).write_text(pool[rng.choice(sorted(pool))], encoding="utf-8")
    if survivors and rng.random() < 0.3:  # renamed
        name = rng.choice(survivors)
        if (source / name).exists():
            (source / name).rename(source / f"0{name}")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_rebuild_in_place_writes_what_a_clean_build_writes(tmp_path, pool, seed, monkeypatch):
    monkeypatch.setattr(kg.incremental, "CHANGED_SHARE", 1.0)  # in place however much changed
    rng = random.Random(seed)
    source = tmp_path / "src"
    source.mkdir()
    for name in rng.sample(sorted(pool), 40):
        (source / name).write_text(pool[name], encoding="utf-8")
    out = tmp_path / "out"
    first = _build(source, out)
    assert first.rewritten is None and load_state(out / CACHE_DIR) is not None
    in_place = 0
    for step in range(5):
        _step(rng, source, pool)
        report = _build(source, out)
        in_place += report.rewritten is not None
        clean = tmp_path / f"clean{step}"
        expected = _build(source, clean, cache=False)
        assert (out / "graph.ttl").read_bytes() == (clean / "graph.ttl").read_bytes(), f"step {step}"
        assert (report.triples, report.meetings) == (expected.triples, expected.meetings)
        shutil.rmtree(clean)
    assert in_place == 5


def _small(tmp_path: Path, pool: dict[str, str], count: int = 30) -> Path:
    source = tmp_path / "src"
    source.mkdir()
    for name in sorted(pool)[:count]:
        (source / name).write_text(pool[name], encoding="utf-8")
    return source


@pytest.fixture
def in_place(monkeypatch):
    """Rebuild in place however much changed (a small corpus's few officials are in most articles)."""
    monkeypatch.setattr(kg.incremental, "CHANGED_SHARE", 1.0)


def test_the_store_is_patched_with_the_rewritten_subjects(tmp_path, pool, in_place):
    source = _small(tmp_path, pool)
    out = tmp_path / "out"
    _build(source, out, store=True)
    (source / sorted(pool)[0]).unlink()
    (source / sorted(pool)[40]).write_text(pool[sorted(pool)[40]], encoding="utf-8")
    report = _build(source, out, store=True)
    assert report.rewritten and report.store_patched
    _build(source, tmp_path / "clean", store=True, cache=False)
    assert _store_triples(out / "store") == _store_triples(tmp_path / "clean" / "store")


def test_only_the_new_subjects_are_validated(tmp_path, pool, monkeypatch, in_place):
    import kg.validate
    from kg.rdf import article_iri

    source = _small(tmp_path, pool)
    out = tmp_path / "out"
    _build(source, out)
    checked = []
    real = kg.validate._check_part

    def recording(part):
        checked.extend(str(node) for node, _ in part)
        return real(part)

    monkeypatch.setattr(kg.validate, "_check_part", recording)
    added = sorted(pool)[45]
    (source / added).write_text(pool[added], encoding="utf-8")
    report = _build(source, out)
    assert report.rewritten and len(checked) <= report.rewritten
    assert str(article_iri(Path(added).stem)) in checked
    assert str(article_iri(Path(sorted(pool)[1]).stem)) not in checked


@pytest.mark.parametrize("jobs", [1, 2])
def test_new_subjects_that_break_the_shapes_leave_graph_and_state_as_they_were(tmp_path, pool, monkeypatch,
                                                                              in_place, jobs):
    """With workers, the new subjects are checked on them while the new graph is written beside (a verdict
    against them throws that away); in one process, before."""
    import kg.validate
    from kg.errors import UserError

    source = _small(tmp_path, pool)
    out = tmp_path / "out"
    _build(source, out)
    before = (out / "graph.ttl").read_bytes(), (out / CACHE_DIR / STATE_FILE).read_bytes()
    real = kg.validate._check_part
    monkeypatch.setattr(kg.validate, "_check_part", _broken_part)
    monkeypatch.setattr(kg.incremental, "PARALLEL_CHECKS", 0)  # any size goes to the workers
    written = []
    real_write = kg.incremental._write
    monkeypatch.setattr(kg.incremental, "_write", lambda *args: written.append(1) or real_write(*args))
    (source / sorted(pool)[45]).write_text(pool[sorted(pool)[45]], encoding="utf-8")
    with pytest.raises(UserError, match="breaks its SHACL shapes"):
        _build(source, out, jobs=jobs)
    assert written == ([1] if jobs > 1 else [])
    assert ((out / "graph.ttl").read_bytes(), (out / CACHE_DIR / STATE_FILE).read_bytes()) == before
    assert not list(out.glob(".graph.ttl.*"))
    monkeypatch.setattr(kg.validate, "_check_part", real)
    assert _build(source, out, jobs=jobs).rewritten


def test_a_small_rebuild_checks_its_new_subjects_on_the_workers_that_extracted_them(tmp_path, pool, monkeypatch,
                                                                                 in_place):
    """Where the pool was started for the new articles, their subjects are checked on it while graph.ttl is
    written from a smaller size (kg.incremental.STARTED_PARALLEL_CHECKS: the workers were forked with the
    shapes' plan worked out); the graph is a clean build's. With nothing to extract, no pool is started
    and the check stays in the building process."""
    import kg.validate

    names = sorted(pool)
    source = _small(tmp_path, pool, count=40)
    out = tmp_path / "out"
    _build(source, out, jobs=2)
    pending = []
    real = kg.validate.PendingReport
    monkeypatch.setattr(kg.validate, "PendingReport", lambda *args: pending.append(1) or real(*args))
    monkeypatch.setattr(kg.incremental, "STARTED_PARALLEL_CHECKS", 0)  # these 20 articles' subjects are fewer
    for name in names[40:60]:  # more than a pool's least number of items
        (source / name).write_text(pool[name], encoding="utf-8")
    report = _build(source, out, jobs=2)
    assert report.rewritten and report.extracted == 20 and pending == [1]
    _build(source, tmp_path / "clean", cache=False)
    assert (out / "graph.ttl").read_bytes() == (tmp_path / "clean" / "graph.ttl").read_bytes()
    (source / names[59]).unlink()
    assert _build(source, out, jobs=2).rewritten and pending == [1]


def _broken_part(part):
    return False, [], ["a broken node"]


@pytest.mark.parametrize("case", ["no state", "graph edited", "graph cut short", "state unreadable", "html",
                                  "too much changed", "killed before the state was kept", "built without validation"])
def test_a_build_is_a_full_one_where_the_state_cannot_be_used(tmp_path, pool, monkeypatch, in_place, case):
    source = _small(tmp_path, pool)
    out = tmp_path / "out"
    _build(source, out, validate=case != "built without validation")
    options = {}
    if case == "no state":
        (out / CACHE_DIR / STATE_FILE).unlink()
    elif case == "graph edited":
        with (out / "graph.ttl").open("a", encoding="utf-8") as graph:
            graph.write("\n")
    elif case == "graph cut short":  # blocks read from it are garbage: the rebuild's errors mean a full build
        data = (out / "graph.ttl").read_bytes()
        (out / "graph.ttl").write_bytes(data[:len(data) // 3])
    elif case == "state unreadable":
        (out / CACHE_DIR / STATE_FILE).write_bytes(b"not a pickle")
    elif case == "html":
        options["html"] = True
    elif case == "too much changed":
        monkeypatch.setattr(kg.incremental, "CHANGED_SHARE", 0.0)
    elif case == "killed before the state was kept":
        (source / sorted(pool)[46]).write_text(pool[sorted(pool)[46]], encoding="utf-8")
        real = kg.incremental.save_state
        monkeypatch.setattr(kg.incremental, "save_state", _killed)
        with pytest.raises(KeyboardInterrupt):
            _build(source, out)
        monkeypatch.setattr(kg.incremental, "save_state", real)
    (source / sorted(pool)[45]).write_text(pool[sorted(pool)[45]], encoding="utf-8")
    report = _build(source, out, **options)
    assert report.rewritten is None
    _build(source, tmp_path / "clean", cache=False, **options)
    assert (out / "graph.ttl").read_bytes() == (tmp_path / "clean" / "graph.ttl").read_bytes()
    assert _build(source, out, **options).rewritten is None  # nothing changed since: the outputs stand
    (source / sorted(pool)[47]).write_text(pool[sorted(pool)[47]], encoding="utf-8")
    again = _build(source, out, **options)  # the full build kept a state: the next is in place again
    assert (again.rewritten is None) == (case in ("html", "too much changed"))


def _killed(*args, **kwargs):
    raise KeyboardInterrupt


def _tenure_block(by_predicate: dict) -> str:
    from rdflib import URIRef

    from kg.serialize import plain_block

    return plain_block(URIRef("https://w3id.org/diplograph/id/tenure-1"), by_predicate, set(), {})


def test_a_node_that_conformed_is_checked_again_on_what_the_shapes_would_see_anew():
    from rdflib import Literal, URIRef
    from rdflib.namespace import PROV, RDF, XSD

    from kg.incremental import _narrowed
    from kg.serialize import term_text
    from kg.validate import local_checks
    from kg.vocab import DG, ORG

    checks = local_checks()
    person, other = (URIRef(f"https://w3id.org/diplograph/id/person-{n}") for n in (1, 2))
    day1, day2, day3 = (Literal(f"2024-01-0{n}", datatype=XSD.date) for n in (1, 2, 3))
    before = {RDF.type: [DG.Tenure], ORG.member: [person], DG.observedOn: [day1, day2],
              DG.roleLabel: [Literal("minister", lang="en")]}
    old = _tenure_block(before)

    def narrowed(after: dict, changed_values: frozenset = frozenset(), block: str = old, cls=DG.Tenure):
        focus = checks.focus.of([cls])
        names = {"a" if p == RDF.type else term_text(p, set(), {}): p for p in focus}
        return _narrowed(after, block, focus, checks.per_value, names, set(changed_values), {})

    assert narrowed(dict(before)) is None
    assert narrowed({**before, DG.roleLabel: [Literal("foreign minister", lang="en")]}) is None  # no shape reads it
    assert narrowed({**before, DG.observedOn: [day1]}) is None  # one date fewer: no per-value rule can break
    assert narrowed({**before, DG.observedOn: [day1, day2, day3]}) == {
        RDF.type: [DG.Tenure], ORG.member: [person], DG.observedOn: [day3]}
    assert narrowed({**before, ORG.member: [person, other]}) == {
        RDF.type: [DG.Tenure], ORG.member: [person, other]}  # a count sees every value
    assert narrowed({**before, ORG.member: []}) == {RDF.type: [DG.Tenure], ORG.member: []}  # a value gone
    assert narrowed(dict(before), frozenset({str(person)})) == {RDF.type: [DG.Tenure], ORG.member: [person]}

    # a count that was met and lost no value still is: the new value and as many old ones as it requires
    article = URIRef("https://w3id.org/diplograph/id/article/a")
    evidence = [URIRef(f"https://w3id.org/diplograph/id/evidence/e{n}") for n in range(4)]
    meeting = {RDF.type: [DG.Meeting], DG.participant: [person, other], PROV.wasDerivedFrom: [article],
               DG.evidence: evidence[:3]}
    block = _tenure_block(meeting)
    grown = narrowed({**meeting, DG.evidence: evidence}, block=block, cls=DG.Meeting)
    assert grown[DG.evidence][0] == evidence[3] and len(grown[DG.evidence]) == 2
    assert sorted(grown[DG.participant]) == sorted([person, other]) and grown[PROV.wasDerivedFrom] == [article]
    shrunk = narrowed({**meeting, DG.evidence: evidence[:1]}, block=block, cls=DG.Meeting)
    assert shrunk[DG.evidence] == evidence[:1]  # a value gone where a count is required: all that are left
    assert narrowed({**meeting, DG.evidence: []}, block=block, cls=DG.Meeting) is not None


def _existing(out: Path, cls: str) -> set[str]:
    return {iri for iri in load_state(out / CACHE_DIR).entries if f"/id/{cls}/" in iri}


@pytest.mark.parametrize("breakage", ["a new value judged alone", "one value too many", "a required value gone",
                                      "a grown person's new value"])
def test_a_changed_node_that_breaks_the_shapes_is_caught(tmp_path, pool, monkeypatch, in_place, breakage):
    """What a rebuild checks of a node it rewrites is narrowed to what changed (``_narrowed``): the breakage
    injected into an existing node the rebuild rewrites must still be found, with the property it breaks.
    A person who only gained mentions gets the new articles' part added to its old block (a label removed
    from that part removes none): the person whose labels go is rebuilt whole here; a value added to the new
    part of a grown person is caught too."""
    from rdflib import Literal, URIRef
    from rdflib.namespace import RDFS

    from kg.errors import UserError
    from kg.vocab import DG, ORG

    source = _small(tmp_path, pool)
    out = tmp_path / "out"
    _build(source, out)
    tenures, persons = _existing(out, "tenure"), _existing(out, "person")
    real = kg.incremental.partial_graph
    broken = []
    grown = []

    def breaking(*args, **kwargs):
        grown.extend(sorted(args[5]))
        graph, builder = real(*args, **kwargs)
        if breakage == "a grown person's new value":
            person = str(mint("person", grown[0]))
            graph.add((URIRef(person), DG.nameKey, Literal("tagged", lang="en")))
            broken.append(person)
            return graph, builder
        if breakage == "a required value gone":
            person = next(iri for iri in sorted(persons) if (URIRef(iri), None, None) in graph)
            for label in list(graph.objects(URIRef(person), RDFS.label)):
                graph.remove((URIRef(person), RDFS.label, label))
            broken.append(person)
            return graph, builder
        tenure = next(iri for iri in sorted(tenures) if (URIRef(iri), None, None) in graph)
        if breakage == "a new value judged alone":
            graph.add((URIRef(tenure), DG.observedOn, Literal("soon")))
        else:
            member = next(graph.objects(URIRef(tenure), ORG.member))
            # one more: the check must see the member the tenure had before too
            graph.add((URIRef(tenure), ORG.member, next(URIRef(iri) for iri in sorted(persons) if iri != str(member))))
        broken.append(tenure)
        return graph, builder

    monkeypatch.setattr(kg.incremental, "partial_graph", breaking)
    if breakage == "a required value gone":
        digests = kg.incremental.owner_digests
        monkeypatch.setattr(kg.incremental, "owner_digests", lambda *args: digests(*args[:5]))  # none grown
    popular = max(pool, key=lambda name: pool[name].count("\n"))  # an article with some people in it
    added = next(name for name in sorted(pool)[30:] if name != popular)
    (source / added).write_text(pool[added], encoding="utf-8")
    with pytest.raises(UserError, match="breaks its SHACL shapes") as caught:
        _build(source, out)
    assert broken
    expected = {"a new value judged alone": "observedOn", "one value too many": "member",
                "a required value gone": "label", "a grown person's new value": "nameKey"}[breakage]
    assert expected in str(caught.value)


def test_the_state_is_kept_in_pieces_and_read_back_whole(tmp_path, pool, monkeypatch):
    """save_state pickles the large mappings piece by piece (bounded memory at 170k articles): what
    load_state reads back equals what was saved, and a file cut short is no state at all."""
    from dataclasses import asdict

    from kg.incremental import save_state

    source = _small(tmp_path, pool, count=12)
    out = tmp_path / "out"
    _build(source, out)
    state = load_state(out / CACHE_DIR)
    assert state is not None and len(state.entries) > 7
    monkeypatch.setattr(kg.incremental, "STATE_PIECE", 3)
    save_state(tmp_path / "kept", state)
    again = load_state(tmp_path / "kept")
    assert asdict(again) == asdict(state)
    data = (tmp_path / "kept" / STATE_FILE).read_bytes()
    (tmp_path / "kept" / STATE_FILE).write_bytes(data[: len(data) * 2 // 3])
    assert load_state(tmp_path / "kept") is None


def test_people_who_only_gained_mentions_grow_their_old_blocks(tmp_path, pool, monkeypatch, in_place):
    """A person mentioned again in new articles is a *grown* owner (kg.incremental.owner_digests): its old
    block gets the new articles' part (kg.rdf.grown_block), and the graph is a clean build's. Not where a new
    article comes before an old one in document order and language (its forms would be the preferred
    labels), nor where a person's old mentions changed (an article changed or gone)."""
    import kg.rdf

    source = _small(tmp_path, pool, count=24)
    out = tmp_path / "out"
    _build(source, out)
    seen: list[frozenset] = []
    real = kg.incremental.partial_graph
    monkeypatch.setattr(kg.incremental, "partial_graph", lambda *args: seen.append(args[5]) or real(*args))
    grown_blocks = []
    real_grown = kg.incremental.grown_block
    monkeypatch.setattr(kg.incremental, "grown_block", lambda *args: grown_blocks.append(args) or real_grown(*args))

    def rebuilt_as_clean(step: str) -> frozenset:
        seen.clear()
        report = _build(source, out)
        assert report.rewritten is not None, step
        clean = tmp_path / "clean"
        _build(source, clean, cache=False)
        assert (out / "graph.ttl").read_bytes() == (clean / "graph.ttl").read_bytes(), step
        shutil.rmtree(clean)
        return seen[-1]

    names = sorted(pool)
    # new articles that sort last: their officials, all mentioned before, only gained mentions
    for name in names[30:33]:
        (source / f"z{name}").write_text(pool[name], encoding="utf-8")
    grown = rebuilt_as_clean("added last")
    assert grown and grown_blocks
    assert all(kg.rdf.grown_block(old, delta) for old, delta in grown_blocks)

    # an article of one of them that sorts first: in its language, the person's forms would come first
    language_of = {path.stem: path.stem.rsplit("_", 1)[-1] for path in source.glob("*.txt")}
    first = next(name for name in names[33:] if Path(name).stem.rsplit("_", 1)[-1] in set(language_of.values()))
    (source / f"0{first}").write_text(pool[first], encoding="utf-8")
    # (the pool's officials are mentioned in every language: each has an old mention in it after this one)
    assert rebuilt_as_clean("added first") == frozenset()

    # an old article changed: whoever it mentioned lost a mention, and is rebuilt whole
    changed = sorted(source.glob("0*.txt"))[0]
    changed.write_text(pool[names[40]], encoding="utf-8")
    assert rebuilt_as_clean("changed") == frozenset()


def test_the_graph_a_state_describes_is_known_by_what_the_file_system_says_of_it(tmp_path, pool, monkeypatch,
                                                                                   in_place):
    """A rebuild trusts that graph.ttl is the file its state was written with where the file system says the
    file was not touched since (kg.cache.file_key: size, inode, times), as it trusts an article's: it does
    not hash a gigabyte. A copied output folder (other inode and times) is hashed, and rebuilt in place."""
    import kg.store

    source = _small(tmp_path, pool, count=12)
    out = tmp_path / "out"
    _build(source, out)
    hashed = []
    real = kg.store.file_sha256
    monkeypatch.setattr(kg.store, "file_sha256", lambda path: hashed.append(Path(path).name) or real(path))
    names = sorted(pool)
    (source / names[40]).write_text(pool[names[40]], encoding="utf-8")
    assert _build(source, out).rewritten is not None and "graph.ttl" not in hashed

    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (source / names[41]).write_text(pool[names[41]], encoding="utf-8")
    assert _build(source, copy).rewritten is not None and hashed.count("graph.ttl") == 1
    _build(source, tmp_path / "clean", cache=False)
    assert (copy / "graph.ttl").read_bytes() == (tmp_path / "clean" / "graph.ttl").read_bytes()


def test_cached_extractions_are_decoded_while_the_workers_extract_the_new_ones(tmp_path, pool, monkeypatch):
    """With a pool, a build decodes the cached extractions on a thread while the workers extract the new
    articles (kg.pipeline._DecodedBeside): the same graph as a clean build; the pool's processes exist before
    the thread does (forked, not beside a running thread); a failed extraction stops the thread too."""
    import threading

    import kg.parallel
    import kg.pipeline

    names = sorted(pool)
    source = _small(tmp_path, pool, count=40)
    out = tmp_path / "out"
    _build(source, out, jobs=2)
    for name in names[40:60]:  # more than a pool's least number of items
        (source / name).write_text(pool[name], encoding="utf-8")
    started = []
    real = kg.pipeline._DecodedBeside

    def recording(items):
        started.append((len(items), threading.active_count()))
        return real(items)

    monkeypatch.setattr(kg.pipeline, "_DecodedBeside", recording)
    report = _build(source, out, jobs=2)
    assert started and started[0][0] == report.reused > 0 and report.extracted == 20
    assert started[0][1] > 1  # the pool's management thread: its processes were started first
    _build(source, tmp_path / "clean", cache=False)
    assert (out / "graph.ttl").read_bytes() == (tmp_path / "clean" / "graph.ttl").read_bytes()

    for name in names[:20]:
        (source / f"z{name}").write_text(pool[name] + "\nAgain.", encoding="utf-8")
    monkeypatch.setattr(kg.pipeline, "extract_payload", _failing_extraction)
    threads = threading.active_count()
    started.clear()
    with pytest.raises(RuntimeError, match="extraction failed"):
        _build(source, out, jobs=2)
    assert started and threading.active_count() <= threads


def _failing_extraction(doc):
    raise RuntimeError(f"{doc.path}: extraction failed")
