"""A rebuild that rewrites only what changed: the graph's subjects grouped by what they follow from.

Every subject of the data graph follows from one *owner* alone (:func:`owner_digests`):

- an article (``a``): its own node and its evidence nodes, from its document and extraction;
- a person (``p``, a global person key): the person and their tenures, from the articles that mention them
  (in document order) and their ``dg:possiblySame`` links;
- a set of participants (``m``): the meetings reported with exactly those participants, from every report
  of them in document order (reports are grouped into meetings per set of participants, :class:`kg.rdf.MeetingGroups`).

Registry entities (states, organisations, cities) and posts are *shared*: their triples follow from their IRIs,
and they are in the graph while something in it refers to them. The ontology's subjects never change.

A build that writes graph.ttl in full records, in ``out/.cache/graph-state.pickle``, a digest of each owner's
inputs, where each subject's block lies in graph.ttl (:class:`kg.serialize.BlockLayout`), whose it is, and what
it refers to (:func:`record_state`). The next build (:func:`rebuild`) compares the digests: only the owners whose
inputs changed go to a :class:`kg.rdf.GraphBuilder` (each article narrowed to their people and meetings),
their subjects are rendered, and graph.ttl is written from the previous file's blocks and the new ones, in
the same order: the bytes of a clean build. Only the new blocks are validated, and the store is patched with
them. Where the state does not describe the graph.ttl in place, or too much changed, the build is a full one.

A person mentioned in nearly every article changes with nearly every new one; rebuilding their block from
every mention made a 1% rebuild of a large corpus rebuild millions of triples. A person who only *gained*
mentions (:func:`owner_digests`: their old mentions and links digest as the whole did before) is *grown*
instead: the partial graph holds what the new articles say of them, and :func:`kg.rdf.grown_block` adds
that to their old block, as :meth:`kg.rdf.GraphBuilder.finish` would have written it from all of them.
"""

from __future__ import annotations

import hashlib
import mmap
import pickle
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import NamedTuple

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from kg.cache import document_key, extractor_version
from kg.memgraph import objects_grouper
from kg.model import ArticleExtraction
from kg.rdf import LABEL_LANGS, GraphBuilder, MeetingGroups, article_iri, grown_block, participant_iri
from kg.serialize import (
    BlockLayout,
    atomic_writer,
    block_sections,
    digest64,
    plain_block,
    prefix_lines,
    term_text,
)

STATE_FILE = "graph-state.pickle"
STATE_FORMAT = 5
#: A rebuild rewrites blocks only while the owners whose inputs changed are at most this share of all.
CHANGED_SHARE = 0.3
#: New subjects' triples past which they are validated on the build's workers rather than in its process.
PARALLEL_CHECKS = 20_000
#: The same where the workers are started (they read and extracted the new articles, and were forked with the
#: shapes' plan worked out).
STARTED_PARALLEL_CHECKS = 2_000

ARTICLE, PERSON, MEETINGS = "a\x1f", "p\x1f", "m\x1f"


def article_owner(article_id: str) -> str:
    return ARTICLE + article_id


def person_owner(person_key: str) -> str:
    return PERSON + person_key


def meetings_owner(participants: Sequence[URIRef]) -> str:
    return MEETINGS + " ".join(participants)


def participants_of(ex: ArticleExtraction, record, person_keys) -> tuple[URIRef, ...]:
    """A meeting report's participants as :meth:`kg.rdf.GraphBuilder.meeting_participants` gives them."""
    return tuple(sorted({participant_iri(person_keys, ex.document.id, part) for part in record.participants}))


def owner_digests(decoded: Sequence[ArticleExtraction], person_keys, possibly_same,
                  report_owners: dict[str, list[str]] | None = None, previous: dict[str, bytes] | None = None,
                  grown: set[str] | None = None, keys: dict[str, str] | None = None) -> dict[str, bytes]:
    """Each owner of the graph of ``decoded`` (in document order) with a digest of everything its subjects
    follow from: an article's document (its cache key: content and what ingestion read; the extraction is
    a function of it for one extractor version, which the state records); a person's mentions in document
    order (article, its key, local id) and ``possiblySame`` links; a set of participants' reports in document
    order (article, its key, the report's position in it). ``report_owners`` gets each article's meeting reports'
    owners, in order. ``keys``: the documents' keys by id, where the caller has them.

    Given the ``previous`` build's digests, ``grown`` gets the persons (keys) that only *gained* mentions, in
    articles new or changed since: their old mentions and links digest as the whole did before. Their blocks
    are the old ones grown by what the new articles say of them (:func:`kg.rdf.grown_block`), where no new
    mention comes before an old one in the same language (which would change the preferred label) and every
    new mention is in a language labels are tagged with."""
    hashers: dict[str, object] = {}
    digests: dict[str, bytes] = {}
    keys = keys or {}
    blake2b = hashlib.blake2b
    # a grown person's digest without its new mentions: the digest as it stood at its first new mention,
    # fed the old mentions after it (all of them, in the usual case of new articles sorting last)
    kept: dict[str, object] = {}
    new_languages: dict[str, set[str]] = {}  # the languages a person was newly mentioned in so far
    not_grown: set[str] = set()

    def hasher_of(owner: str):
        hasher = hashers.get(owner)
        if hasher is None:
            hasher = hashers[owner] = blake2b(digest_size=16)
        return hasher

    def feed(owner: str, text: str) -> None:
        hasher_of(owner).update(text.encode("utf-8", "surrogatepass"))

    for ex in decoded:
        article = ex.document.id
        key = keys.get(article) or document_key(ex.document)
        owner = article_owner(article)
        digests[owner] = digest = blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        new = previous is not None and previous.get(owner) != digest
        language = ex.document.language
        for local_id in sorted(ex.persons):
            person = person_owner(person_keys[(article, local_id)])
            data = f"{article}\x1f{key}\x1f{local_id}\n".encode("utf-8", "surrogatepass")
            hasher = hasher_of(person)
            if new:
                if person not in kept:
                    kept[person] = hasher.copy()
                new_languages.setdefault(person, set()).add(language)
                if language not in LABEL_LANGS:
                    not_grown.add(person)
            elif person in kept:
                kept[person].update(data)
                if language in new_languages[person]:
                    not_grown.add(person)
            hasher.update(data)
        owners = [meetings_owner(participants_of(ex, record, person_keys)) for record in ex.meetings]
        for position, meetings in enumerate(owners):
            feed(meetings, f"{article}\x1f{key}\x1f{position}\n")
        if report_owners is not None:
            report_owners[article] = owners
    for person, others in sorted(possibly_same.items()):
        line = "possibly\x1f" + "\x1e".join(sorted(others)) + "\n"
        feed(person_owner(person), line)
        if person_owner(person) in kept:
            kept[person_owner(person)].update(line.encode("utf-8", "surrogatepass"))
    digests.update((owner, hasher.digest()) for owner, hasher in hashers.items())
    if grown is not None and previous is not None:
        grown.update(person[len(PERSON):] for person, hasher in kept.items()
                     if person not in not_grown and previous.get(person) == hasher.digest())
    return digests


class Entry(NamedTuple):
    """A data subject's block in graph.ttl, as :class:`GraphState` keeps it."""

    offset: int  # in bytes, in the file
    size: int  # in bytes
    digest: int  # kg.serialize.digest64 of the block
    owner: str  # "" for a shared subject
    triples: int
    about: tuple  # its (predicate, object) pairs for the properties validation reads of a value
    prefixes: frozenset[str]  # those the block uses


@dataclass
class GraphState:
    """What the last build wrote, for the next to rewrite only what changed (see the module's docstring).

    ``entries``: IRI -> :class:`Entry` for every data subject. ``fixed``: the other blocks (the ontology's), ``(key,
    offset, size, digest)`` in file order (``digest`` None for a blank node's). ``refs``: the shared subjects
    each owner, and each shared subject, refers to. ``graph_file``: what the file system said of graph.ttl
    once written (:func:`kg.cache.file_key`): a rebuild hashes the file only where it says something else."""

    version: str
    graph_sha256: str
    entries: dict[str, Entry]
    fixed: list[tuple]
    fixed_prefixes: frozenset[str]
    fixed_triples: int
    owners: dict[str, bytes]
    refs: dict[str, frozenset[str]]
    meetings: int = 0
    validated: bool = True  # the graph was checked against the shapes (a rebuild then checks only what is new)
    graph_file: str | None = None  # kg.cache.file_key of the graph.ttl once written

    @property
    def triples(self) -> int:
        return self.fixed_triples + sum(entry.triples for entry in self.entries.values())


def state_version() -> str:
    from kg.validate import shapes_version

    return f"{STATE_FORMAT}:{extractor_version()}:{shapes_version()}"


#: The state's large mappings are pickled in pieces of this many items (see :func:`save_state`).
STATE_PIECE = 50_000
_MAPPINGS = ("entries", "owners", "refs")


def load_state(cache_dir: Path) -> GraphState | None:
    """The state in ``cache_dir``, None where there is none, it is unreadable or of another version."""
    try:
        with (cache_dir / STATE_FILE).open("rb") as handle:
            # our own cache file, beside our own pickled extractions
            state = pickle.load(handle)  # noqa: S301
            if not isinstance(state, GraphState) or state.version != state_version():
                return None
            for name in _MAPPINGS:
                mapping: dict = {}
                while (piece := pickle.load(handle)) is not None:  # noqa: S301
                    mapping.update(_entries_from(piece) if name == "entries" else piece)
                setattr(state, name, mapping)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError, ImportError):
        return None
    return state


def save_state(cache_dir: Path, state: GraphState) -> None:
    """Keep ``state`` in ``cache_dir`` (atomically): the state without its large mappings, then each mapping in
    pieces of :data:`STATE_PIECE` items, each its own pickle, ended by None, written to the file as they are
    made. One pickle of the whole state (~115 MB at 170k articles) was held as bytes, and its memo of every
    object pickled grew with it: together ~0.4 GB more at the peak of a clean build, which is this moment.
    The entries go as columns (:func:`_entries_as_columns`)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with atomic_writer(cache_dir / STATE_FILE) as handle:
        pickle.dump(replace(state, **{name: {} for name in _MAPPINGS}), handle, protocol=pickle.HIGHEST_PROTOCOL)
        for name in _MAPPINGS:
            items = iter(getattr(state, name).items())
            while piece := dict(islice(items, STATE_PIECE)):
                pickle.dump(_entries_as_columns(piece) if name == "entries" else piece, handle,
                            protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(None, handle, protocol=pickle.HIGHEST_PROTOCOL)


def _entries_as_columns(entries: dict[str, Entry]) -> tuple:
    """Entries as the IRIs and a tuple per field: a named tuple pickles through a call per object, which was
    two thirds of the time spent saving a large state.

    >>> entries = {"urn:a": Entry(0, 10, 7, "", 2, (), frozenset()), "urn:b": Entry(11, 5, 8, "o", 1, (), frozenset())}
    >>> _entries_from(_entries_as_columns(entries)) == entries
    True
    """
    return tuple(entries), tuple(zip(*entries.values(), strict=True))


def _entries_from(columns: tuple) -> dict[str, Entry]:
    iris, fields = columns
    return dict(zip(iris, map(Entry._make, zip(*fields, strict=True)), strict=True))


def forget_state(cache_dir: Path) -> None:
    (cache_dir / STATE_FILE).unlink(missing_ok=True)


def _owned_subjects(builder: GraphBuilder, owners) -> dict[str, str]:
    """Subject IRI -> owner, for the owners in ``owners`` from what ``builder`` noted."""
    from kg.iri import mint

    owned: dict[str, str] = {}
    for owner in owners:
        if owner.startswith(ARTICLE):
            article = owner[len(ARTICLE):]
            owned[str(article_iri(article))] = owner
            for evidence in builder.evidence_of.get(article, ()):
                owned[str(evidence)] = owner
        elif owner.startswith(PERSON):
            person = mint("person", owner[len(PERSON):])
            owned[str(person)] = owner
            for tenure in builder.tenures_of.get(person, ()):
                owned[str(tenure)] = owner
    for participants, meetings in builder.meetings_of.items():
        owner = meetings_owner(participants)
        if owner in owners:
            for meeting in meetings:
                owned[str(meeting)] = owner
    return owned


class _About:
    """A subject's ``(predicate, object)`` pairs for the properties validation reads of a value (its types,
    its schemes), as the state keeps them: the same tuple for the many subjects that have the same pairs."""

    def __init__(self, predicates: frozenset) -> None:
        self.predicates = sorted(predicates, key=str)
        self._seen: dict[tuple, tuple] = {}

    def __call__(self, by_predicate: dict) -> tuple:
        pairs = tuple((str(p), o) for p in self.predicates for o in by_predicate.get(p, ()))
        return self._seen.setdefault(pairs, pairs)


def _shared_refs(by_predicate: dict, shared: set[str]) -> set[str]:
    return {str(o) for objects in by_predicate.values() for o in objects
            if o.__class__ is URIRef and str(o) in shared}


def record_state(graph: Graph, layout: BlockLayout, own: dict, builder: GraphBuilder, owners: dict[str, bytes],
                 graph_sha256: str, meetings: int, validated: bool) -> GraphState:
    """The state of a graph just written in full: ``layout`` (where its blocks lie) and ``own`` (each IRI
    subject's block digest, :class:`kg.serialize.BlockDigests`) from writing it, ``builder`` from building it
    from inputs with the digests ``owners``."""
    from kg.validate import local_checks

    checks = local_checks()
    about = _About(checks.value_predicates if checks is not None else frozenset())
    grouped = objects_grouper(graph)
    owned = _owned_subjects(builder, owners)
    shared = {str(iri) for iri in builder.shared}
    entries: dict[str, tuple] = {}
    fixed: list[tuple] = []
    fixed_prefixes = set(layout.nested_prefixes)
    refs: dict[str, set[str]] = {}
    interned: dict[frozenset, frozenset] = {}
    for key, subject, offset, size, prefixes in layout.blocks:
        owner = owned.get(subject) if subject is not None else None
        if prefixes is None or (owner is None and subject not in shared):  # the ontology's
            fixed.append((key, offset, size, own.get(URIRef(subject)) if subject is not None else None))
            fixed_prefixes |= prefixes or frozenset()
            continue
        node = URIRef(subject)
        by_predicate = grouped(node)
        triples = sum(len(objects) for objects in by_predicate.values())
        entries[subject] = Entry(offset, size, own[node], owner or "", triples, about(by_predicate),
                                 interned.setdefault(prefixes, prefixes))
        found = _shared_refs(by_predicate, shared)
        if found:
            refs.setdefault(owner or subject, set()).update(found)
    fixed_triples = len(graph) - sum(entry.triples for entry in entries.values())
    return GraphState(state_version(), graph_sha256, entries, fixed, frozenset(fixed_prefixes), fixed_triples,
                      owners, {owner: frozenset(found) for owner, found in refs.items()}, meetings, validated)


@dataclass
class Rebuilt:
    """What :func:`rebuild` wrote and hands to the rest of the build."""

    state: GraphState
    graph_sha256: str
    triples: int
    meetings: int
    changed: list[str] = field(default_factory=list)  # subjects new or changed, for the store
    changed_blocks: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # subjects gone
    previous_blocks: dict[str, str] = field(default_factory=dict)  # what the changed and gone subjects had
    rendered: int = 0  # subjects rendered (new or changed owners' subjects, and shared ones newly referred to)


def changed_owners(state: GraphState, owners: dict[str, bytes]) -> tuple[set[str], set[str]]:
    """Owners whose inputs changed or that are new, and owners that are gone."""
    changed = {owner for owner, digest in owners.items() if state.owners.get(owner) != digest}
    gone = set(state.owners) - set(owners)
    return changed, gone


def partial_graph(decoded: Sequence[ArticleExtraction], person_keys, possibly_same, changed: set[str],
                  report_owners: dict[str, list[str]] | None = None,
                  grown: frozenset[str] = frozenset()) -> tuple[Graph, GraphBuilder]:
    """The triples of the changed owners' subjects (and the shared subjects they refer to, and some of other
    subjects, which :func:`rebuild` does not read): each article narrowed to the people and meeting reports
    of changed owners, given to a :class:`GraphBuilder` in document order (``report_owners``: those of
    :func:`owner_digests`, where taken). Of the ``grown`` persons (keys), only what the new or changed
    articles say: the part :func:`kg.rdf.grown_block` adds to their old blocks."""
    from kg.ontology import ontology_graph

    builder = GraphBuilder(person_keys, possibly_same)
    groups = MeetingGroups(builder)
    changed_persons = {owner[len(PERSON):] for owner in changed if owner.startswith(PERSON)} - grown
    for ex in decoded:
        article = ex.document.id
        own = article_owner(article) in changed
        persons = {local_id: person for local_id, person in ex.persons.items()
                   if person_keys[(article, local_id)] in changed_persons
                   or (own and person_keys[(article, local_id)] in grown)}
        owners = report_owners[article] if report_owners is not None else [
            meetings_owner(participants_of(ex, record, person_keys)) for record in ex.meetings]
        reports = [record for record, owner in zip(ex.meetings, owners, strict=True) if owner in changed]
        if not persons and not reports and not own:
            continue
        if len(persons) == len(ex.persons) and len(reports) == len(ex.meetings):
            view = ex
        else:
            view = replace(ex, persons=persons, meetings=reports)
        builder.add_article(view, node=own)
        groups.add(view)
    for reports in groups.groups:
        builder.add_meeting(reports)
    graph = builder.finish()
    for triple in ontology_graph():
        graph.add(triple)
    return graph, builder


def rebuild(decoded: Sequence[ArticleExtraction], person_keys, possibly_same, state: GraphState,
            previous: Path, staged: Path, workers=None, validate: bool = True,
            keys: dict[str, str] | None = None) -> Rebuilt | None:
    """Write to ``staged`` the graph of ``decoded`` from the ``previous`` graph.ttl that ``state`` describes
    and the subjects of the owners whose inputs changed; None (nothing written) where that cannot be done
    (shapes that are not local, a graph never validated) or too much changed for it to pay. Raises
    :class:`kg.errors.UserError` where the new subjects break the shapes (``validate``). ``keys``: the
    documents' keys by id, where the caller has them (:func:`owner_digests`).

    ``decoded`` (a list) is emptied once the changed owners' subjects are built: every article's extraction
    is most of a rebuild's memory, and validating and writing do not read them."""
    from kg.validate import local_checks

    checks = local_checks()
    if checks is None or (validate and not state.validated):
        return None
    about = _About(checks.value_predicates)
    report_owners: dict[str, list[str]] = {}
    grown: set[str] = set()
    owners = owner_digests(decoded, person_keys, possibly_same, report_owners, state.owners, grown, keys)
    changed, gone = changed_owners(state, owners)
    if len(changed) + len(gone) > CHANGED_SHARE * max(1, len(owners)):
        return None
    graph, builder = partial_graph(decoded, person_keys, possibly_same, changed, report_owners, frozenset(grown))
    grown_owners = {person_owner(key) for key in grown}
    meetings = sum(len(ex.meetings) for ex in decoded)
    if isinstance(decoded, list):
        decoded.clear()
    del report_owners
    grouped = objects_grouper(graph)
    owned = _owned_subjects(builder, changed)

    universe = {str(iri) for iri in builder.shared} | {iri for iri, entry in state.entries.items() if not entry.owner}
    # a grown owner refers to what it did, and to what its new subjects and new triples refer to
    refs = {owner: found for owner, found in state.refs.items()
            if owner not in gone and (owner not in changed or owner in grown_owners)}
    for subject, owner in owned.items():
        found = _shared_refs(grouped(URIRef(subject)), universe)
        if found:
            refs[owner] = refs.get(owner, frozenset()) | found
    shared = _closure(refs, owners, state, grouped, universe)

    grown_subjects = {iri for iri, owner in owned.items() if owner in grown_owners and iri in state.entries}
    new = _render(sorted(set(owned) | {iri for iri in shared if iri not in state.entries}), grouped, state, about,
                  checks, grown_subjects, previous)
    # a grown owner's subjects the new articles say nothing of stay as they were
    unchanged = {owner for owner in state.owners
                 if owner not in gone and (owner not in changed or owner in grown_owners)}
    kept = {iri: entry for iri, entry in state.entries.items() if iri not in new.blocks
            and (entry.owner in unchanged if entry.owner else iri in shared)}
    removed = sorted(iri for iri in state.entries if iri not in kept and iri not in new.blocks)
    pending = _check(new, removed, checks, state, previous, workers) if validate else None
    try:
        written = _write(previous, staged, state, kept, new, owned, removed)  # while the workers check
    except BaseException:
        if pending is not None:
            pending.cancel()
        raise
    if pending is not None:
        _conforming(pending.result())
    new_state = GraphState(state.version, written.sha256, written.entries, written.fixed, state.fixed_prefixes,
                           state.fixed_triples, owners, {owner: frozenset(found) for owner, found in refs.items()},
                           meetings, state.validated and validate)
    return Rebuilt(new_state, written.sha256, new_state.triples, meetings, written.changed, written.changed_blocks,
                   removed, written.previous_blocks, len(new.blocks))


@dataclass
class _Rendered:
    """The blocks :func:`rebuild` wrote anew, with the prefixes each uses, its number of triples and its
    :class:`_About` pairs; those that came out as they were, and those whose types or schemes are new (a node
    pointing to one of them is validated again). ``objects``: each subject's objects per predicate, where not
    the partial graph's (a grown subject's: those the shapes read, from its grown block)."""

    grouped: object  # the partial graph's objects_grouper
    blocks: dict[str, str] = field(default_factory=dict)
    prefixes: dict[str, frozenset[str]] = field(default_factory=dict)
    triples: dict[str, int] = field(default_factory=dict)
    abouts: dict[str, tuple] = field(default_factory=dict)
    objects: dict[str, dict] = field(default_factory=dict)
    previous: dict[str, str] = field(default_factory=dict)  # a grown subject's old block, read once
    same_block: set[str] = field(default_factory=set)
    new_about: set[str] = field(default_factory=set)

    def by_predicate(self, node: URIRef) -> dict:
        found = self.objects.get(str(node))
        return found if found is not None else self.grouped(node)


def _render(subjects: list[str], grouped, state: GraphState, about: _About, checks, grown: set[str],
            previous: Path) -> _Rendered:
    """Render ``subjects`` from the partial graph; a ``grown`` one's block is its old block (in ``previous``)
    grown by the partial graph's (:func:`kg.rdf.grown_block`)."""
    rendered = _Rendered(grouped)
    cache: dict = {}
    with previous.open("rb") as source:
        for subject in subjects:
            used: set[str] = set()
            by_predicate = grouped(URIRef(subject))
            text = plain_block(URIRef(subject), by_predicate, used, cache)
            before = state.entries.get(subject)
            if subject in grown:
                source.seek(before.offset)
                rendered.previous[subject] = old = source.read(before.size).decode("utf-8")
                text = grown_block(old, text)
                used |= before.prefixes
                by_predicate, triples = _read_objects(text, checks)
                rendered.objects[subject] = by_predicate
            else:
                triples = sum(len(objects) for objects in by_predicate.values())
            rendered.blocks[subject] = text
            rendered.prefixes[subject] = frozenset(used)
            rendered.triples[subject] = triples
            rendered.abouts[subject] = pairs = about(by_predicate)
            if before is not None and before.digest == digest64(text):
                rendered.same_block.add(subject)
            if before is None or before.about != pairs:
                rendered.new_about.add(subject)
    return rendered


def _read_objects(block: str, checks) -> tuple[dict, int]:
    """The objects per predicate of a block, of the predicates the shapes read of it or of it as a value
    (read back from the text), and its number of triples."""
    from kg.serialize import block_sections, term_from_text

    _, sections = block_sections(block)
    focus = checks.focus.of(map(term_from_text, sections.get("a", ()))) | checks.value_predicates
    by_predicate = {}
    for name, objects in sections.items():
        predicate = term_from_text(name)
        if predicate in focus:
            by_predicate[predicate] = [term_from_text(value) for value in objects]
    return by_predicate, sum(len(objects) for objects in sections.values())


def _check(new: _Rendered, removed: list[str], checks, state: GraphState, previous: Path, workers):
    """Validate what is new of the rendered subjects: on the ``workers`` where there is enough to check, the
    verdict started there (:class:`kg.validate.PendingReport`: the caller writes the new graph meanwhile, then
    :func:`_conforming`), else here, raising :class:`kg.errors.UserError` where the subjects break the
    shapes (None). A new subject is checked whole; one that was in
    the previous graph (which conformed) only where a property the shapes read of it changed or a value it
    points to is new or gone (:func:`_narrowed`), and then on all its values of the properties the shapes
    count or compare and on the new or changed ones of those they judge value by value."""
    from kg.validate import NODE_WEIGHT, PendingReport, check_parts, parts_of

    changed_values = new.new_about | set(removed)
    checked: list[tuple[URIRef, dict]] = []
    cache: dict = {}
    names: dict[frozenset, dict[str, URIRef]] = {}  # per focus: each property as blocks write it
    with previous.open("rb") as source:
        for iri in new.blocks:
            node = URIRef(iri)
            by_predicate = new.by_predicate(node)
            before = state.entries.get(iri)
            if before is not None and iri not in new.new_about:
                focus = checks.focus.of(by_predicate.get(RDF.type, ()))
                if focus not in names:
                    names[focus] = {"a" if p == RDF.type else term_text(p, set(), cache): p for p in focus}
                old = new.previous.get(iri)
                if old is None:
                    source.seek(before.offset)
                    old = source.read(before.size).decode("utf-8")
                by_predicate = _narrowed(by_predicate, old, focus, checks.per_value, names[focus], changed_values,
                                         cache)
                if by_predicate is None:
                    continue
            checked.append((node, by_predicate))
    size = sum(len(objects) for _, by_predicate in checked for objects in by_predicate.values())
    in_parallel = workers is not None and workers.jobs > 1 and (
        size > PARALLEL_CHECKS or (workers.started and size > STARTED_PARALLEL_CHECKS))
    # about twice each node's own triples in a fragment, and each node's own cost; a part per worker
    cost = 2 * size + NODE_WEIGHT * len(checked)
    part_cost = max(PARALLEL_CHECKS // 2, cost // workers.jobs + 1) if in_parallel else cost + 1
    parts = parts_of(_fragments(checked, new, checks, state), part_cost, NODE_WEIGHT)
    if in_parallel:
        return PendingReport(parts, workers)
    _conforming(check_parts(parts))
    return None


def _conforming(report) -> None:
    from kg.errors import UserError

    if not report.conforms:
        raise UserError(f"the graph breaks its SHACL shapes; nothing was written\n{report.text()}")


def _narrowed(by_predicate: dict, old_block: str, focus: frozenset, per_value: dict, names: dict[str, URIRef],
              changed_values: set[str], cache: dict) -> dict | None:
    """What of a node that conformed as ``old_block`` must be checked again now that its objects are
    ``by_predicate`` (its types and schemes unchanged); None where the shapes would see nothing that could
    break them. Of each property they read (``focus``; ``names``: each as blocks write it), a value is *new*
    where its statement is not in ``old_block`` or it is itself new or gone as a subject (``changed_values``):

    - a property judged value by value (``per_value``, with the least number of values required): its new
      values, and as many old ones as that least number (a count that was met and lost no value still is);
      every value where one was removed and a count is required;
    - any other (counted, compared, a type): every value, where one is new or removed.

    A value removed breaks no per-value rule."""
    subject, sections = block_sections(old_block)  # split, not read line by line: a popular person's is long
    old = {name: {f"{subject} {name} {value} ." for value in values}
           for name, values in sections.items() if name in names}
    used: set[str] = set()
    narrowed: dict = {}
    differs = False
    for predicate, objects in by_predicate.items():
        if predicate not in focus:
            continue
        name = "a" if predicate == RDF.type else term_text(predicate, used, cache)
        before = old.pop(name, set())
        fresh, kept = [], []
        for value in objects:
            statement = f"{subject} {name} {term_text(value, used, cache)} ."
            (fresh if statement not in before or str(value) in changed_values else kept).append(value)
        removed = len(kept) < len(before)
        least = per_value.get(predicate)
        if least is None or (removed and least):
            narrowed[predicate] = objects
            differs = differs or bool(fresh) or removed
        elif fresh or least:
            narrowed[predicate] = fresh + kept[:least]
            differs = differs or bool(fresh)
    # a property that lost every value: a count may be broken
    differs = differs or any(per_value.get(names[name], 1) for name in old)
    return narrowed if differs else None


@dataclass
class _Written:
    """What :func:`_write` wrote: the file's SHA-256, its entries and fixed blocks (as in :class:`GraphState`),
    the subjects whose block changed (with the new blocks, and the old ones of those that had one)."""

    sha256: str = ""
    entries: dict[str, Entry] = field(default_factory=dict)
    fixed: list[tuple] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    changed_blocks: list[str] = field(default_factory=list)
    previous_blocks: dict[str, str] = field(default_factory=dict)


def _write(previous: Path, staged: Path, state: GraphState, kept: dict[str, Entry], new: _Rendered,
           owned: dict[str, str], removed: list[str]) -> _Written:
    """Write ``staged``: the prefixes every block uses, then the fixed, kept and new blocks in key order (the
    kept and fixed copied from ``previous``), as :func:`kg.serialize.write_turtle` lays them out."""
    prefixes = set(state.fixed_prefixes)
    for entry in kept.values():
        prefixes |= entry.prefixes
    for used in new.prefixes.values():
        prefixes |= used
    order = [(key, offset, size, None) for key, offset, size, _ in state.fixed]
    order += [(iri, entry.offset, entry.size, iri) for iri, entry in kept.items()]
    order += [(iri, -1, 0, iri) for iri in new.blocks]
    order.sort(key=lambda item: item[0])  # stable: the ontology's blocks of one key keep their order

    written = _Written()
    fixed_digests = iter(digest for *_, digest in state.fixed)
    interned: dict[frozenset, frozenset] = {}
    sha = _HashedBeside()
    copied: list[memoryview] = []  # the spans copied, views of the previous file (released before it closes)
    with previous.open("rb") as source, atomic_writer(staged) as out:
        old = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ) if previous.stat().st_size else b""
        whole = memoryview(old)
        try:
            position = 0
            # a span of the previous file waiting to be copied: blocks kept side by side there, with the "\n"
            # between them, are copied in one piece (most of a rebuild's blocks: a million at 170k articles)
            span = [0, 0]

            def flush() -> None:
                if span[1] > span[0]:
                    data = whole[span[0]:span[1]]  # not a copy
                    copied.append(data)
                    out.write(data)
                    sha.add(data)
                span[0] = span[1] = 0

            def emit(data: bytes) -> None:
                nonlocal position
                flush()
                out.write(data)
                sha.add(data)
                position += len(data)

            def copy(offset: int, size: int, separated: bool) -> None:
                """Copy old[offset:offset + size], after a "\n" where ``separated``."""
                nonlocal position
                if separated and span[1] > span[0] and span[1] + 1 == offset and old[span[1]:offset] == b"\n":
                    span[1] = offset + size
                    position += 1 + size
                    return
                if separated:
                    emit(b"\n")
                flush()
                span[0], span[1] = offset, offset + size
                position += size

            emit(prefix_lines(prefixes).encode("utf-8"))
            for i, (key, offset, size, iri) in enumerate(order):
                if iri is not None and iri in new.blocks:
                    if i:
                        emit(b"\n")
                    start = position
                    text = new.blocks[iri]
                    data = text.encode("utf-8")
                    digest = digest64(text)
                    before = state.entries.get(iri)
                    if before is None or before.digest != digest:
                        written.changed.append(iri)
                        written.changed_blocks.append(text)
                        if before is not None:
                            written.previous_blocks[iri] = new.previous.get(iri) or _block_at(old, before)
                    used = new.prefixes[iri]
                    written.entries[iri] = Entry(start, len(data), digest, owned.get(iri, ""), new.triples[iri],
                                                 new.abouts[iri], interned.setdefault(used, used))
                    emit(data)
                    continue
                copy(offset, size, separated=i > 0)
                start = position - size
                if iri is None:
                    written.fixed.append((key, start, size, next(fixed_digests)))
                else:
                    entry = kept[iri]
                    written.entries[iri] = Entry(start, *entry[1:])
            flush()
            for iri in removed:
                written.previous_blocks[iri] = _block_at(old, state.entries[iri])
            written.sha256 = sha.hexdigest()
        finally:
            sha.close()
            for view in copied:
                view.release()
            whole.release()
            if isinstance(old, mmap.mmap):
                old.close()
    return written


class _HashedBeside:
    """The SHA-256 of what :func:`_write` writes, worked out on a thread beside the writing (hashing a
    gigabyte lets go of the interpreter, as writing does): the pieces are handed over in order, in batches."""

    BATCH = 8 << 20  # bytes

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._sha = hashlib.sha256()
        self._thread = ThreadPoolExecutor(max_workers=1)
        self._pieces: list = []
        self._size = 0
        self._handed: list = []

    def add(self, piece) -> None:
        self._pieces.append(piece)
        self._size += len(piece)
        if self._size >= self.BATCH:
            self._hand_over()

    def _hand_over(self) -> None:
        pieces, self._pieces, self._size = self._pieces, [], 0
        self._handed.append(self._thread.submit(self._update, pieces))

    def _update(self, pieces: list) -> None:
        for piece in pieces:
            self._sha.update(piece)

    def hexdigest(self) -> str:
        self._hand_over()
        for handed in self._handed:
            handed.result()
        return self._sha.hexdigest()

    def close(self) -> None:
        """Wait for the thread (the pieces it holds are views of a file about to close)."""
        self._thread.shutdown(wait=True)


def _block_at(text, entry: Entry) -> str:
    return text[entry.offset:entry.offset + entry.size].decode("utf-8")


def _closure(refs: dict[str, frozenset[str]], owners: dict[str, bytes], state: GraphState, grouped,
             universe: set[str]) -> set[str]:
    """The shared subjects the owners refer to, and those they refer to in turn."""
    todo = [iri for owner, found in refs.items() if owner in owners for iri in found]
    shared: set[str] = set()
    while todo:
        iri = todo.pop()
        if iri in shared:
            continue
        shared.add(iri)
        onward = state.refs.get(iri) if iri in state.entries else None
        if onward is None:
            onward = _shared_refs(grouped(URIRef(iri)), universe)
            refs[iri] = frozenset(onward)
        else:
            refs[iri] = onward
        todo.extend(onward)
    return shared


def _fragments(checked: list[tuple[URIRef, dict]], rendered: _Rendered, checks,
               state: GraphState) -> Iterator[tuple[URIRef, list[tuple]]]:
    """The ``checked`` subjects (each with the objects to check) the shapes target, each with its fragment
    (:func:`kg.validate.node_fragment`; a value's types and schemes from the new triples where the value was
    rendered too, else from the state; none for the ontology's subjects — a topic, a role, a mode — whose
    triples every part is checked beside, :func:`kg.validate.check_parts`)."""
    from kg.validate import node_fragment

    def about_value(value) -> list[tuple]:
        text = str(value)
        if text in rendered.abouts:
            pairs = rendered.abouts[text]
        else:
            entry = state.entries.get(text)
            if entry is None:  # the ontology's, or nothing's
                return []
            pairs = entry.about
        return [(value, URIRef(p), o) for p, o in pairs]

    for node, by_predicate in checked:
        if any(t in checks.targets for t in by_predicate.get(RDF.type, ())):
            yield node, node_fragment(node, by_predicate, checks.focus.of(by_predicate.get(RDF.type, ())), about_value)
