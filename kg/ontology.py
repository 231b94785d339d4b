"""The ontology, the topic and role schemes, the SHACL shapes and the JSON-LD context, as packaged.

The canonical, human-facing files live in ``ontology/`` at the top of the repository;
``tools/gen_schemes.py`` generates the schemes there and copies all of them into ``kg/data/ontology/``,
which is what this module reads, so an installed package carries them too (a test checks the copies
are current).

>>> g = ontology_graph()
>>> from kg.vocab import DG, TOPIC
>>> from rdflib.namespace import OWL, RDF
>>> (DG.Meeting, RDF.type, OWL.Class) in g and (TOPIC.security, RDF.type, DG.Topic) in g
True
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from rdflib import Graph
from rdflib.namespace import OWL, RDF

from kg.vocab import ONTOLOGY_IRI, PREFIXES, bind_prefixes

DATA_DIR = Path(__file__).resolve().parent / "data" / "ontology"
ONTOLOGY_FILES = ("diplograph.ttl", "topics.ttl", "roles.ttl")
SHAPES_FILE = "shapes.ttl"
CONTEXT_FILE = "context.jsonld"


def data_path(name: str) -> Path:
    """The packaged copy of ``ontology/<name>``."""
    return DATA_DIR / name


@functools.cache
def _triples(names: tuple[str, ...]) -> tuple:
    graph = Graph()
    for name in names:
        graph.parse(data_path(name), format="turtle")
    return tuple(graph)


def _graph(names: tuple[str, ...]) -> Graph:
    graph = Graph()
    bind_prefixes(graph)
    for triple in _triples(names):
        graph.add(triple)
    return graph


def ontology_graph() -> Graph:
    """A fresh graph holding the ontology, the topic scheme and the role scheme (callers may change it)."""
    return _graph(ONTOLOGY_FILES)


def has_ontology(graph: Graph) -> bool:
    """Whether ``graph`` already holds the ontology (a built ``graph.ttl`` does)."""
    return (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in graph


def with_ontology(graph: Graph) -> Graph:
    """A new graph holding ``graph`` plus the ontology and schemes, unless ``graph`` already holds them
    (adding them again would duplicate every blank node of the ontology)."""
    merged = Graph()
    bind_prefixes(merged)
    for triple in graph:
        merged.add(triple)
    if not has_ontology(graph):
        for triple in _triples(ONTOLOGY_FILES):
            merged.add(triple)
    return merged


def shapes_graph() -> Graph:
    """A fresh graph holding the SHACL shapes."""
    return _graph((SHAPES_FILE,))


@functools.cache
def _context_text() -> str:
    return data_path(CONTEXT_FILE).read_text(encoding="utf-8")


def jsonld_context() -> dict:
    """The ``@context`` object of the published JSON-LD context (a fresh copy)."""
    return json.loads(_context_text())["@context"]


_NAMESPACES = sorted(((str(ns), prefix) for prefix, ns in PREFIXES.items()), key=lambda p: -len(p[0]))


def short_iri(iri) -> str:
    """A readable short form of an IRI, ``prefix:rest`` with the longest matching project prefix
    (``dgid:meeting/143bbe7f471663a9``; not always valid Turtle, meant for people).

    >>> short_iri("https://w3id.org/diplograph/id/meeting/143bbe7f471663a9")
    'dgid:meeting/143bbe7f471663a9'
    >>> short_iri("urn:x")
    '<urn:x>'
    """
    text = str(iri)
    for namespace, prefix in _NAMESPACES:
        if text.startswith(namespace) and len(text) > len(namespace):
            return f"{prefix}:{text[len(namespace) :]}"
    return f"<{text}>"
