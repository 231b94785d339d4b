"""Every namespace and ontology term the project uses, in one place.

The ``DG`` namespace is closed (``_fail = True``): a typo in a term name raises
``AttributeError`` at import time instead of silently minting a new IRI.

>>> str(DG.Meeting)
'https://w3id.org/diplograph/ontology#Meeting'
>>> DG.Meeting_typo
Traceback (most recent call last):
...
AttributeError: term 'Meeting_typo' not in namespace 'https://w3id.org/diplograph/ontology#'
"""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SKOS, XSD, DefinedNamespace

BASE = "https://w3id.org/diplograph/"
ONTOLOGY_IRI = URIRef(BASE + "ontology")


class DG(DefinedNamespace):
    """The diplograph ontology (see ``ontology/diplograph.ttl``)."""

    _NS = Namespace(BASE + "ontology#")
    _fail = True

    # classes
    Actor: URIRef
    Person: URIRef
    State: URIRef
    Organization: URIRef
    Place: URIRef
    City: URIRef
    Meeting: URIRef
    PlannedMeeting: URIRef
    Topic: URIRef
    Article: URIRef
    Evidence: URIRef
    Post: URIRef
    Tenure: URIRef
    Role: URIRef
    MeetingMode: URIRef
    # meeting modes (individuals)
    InPerson: URIRef
    PhoneCall: URIRef
    VideoCall: URIRef
    MultilateralSession: URIRef
    # object properties
    participant: URIRef
    participatesIn: URIRef
    place: URIRef
    topic: URIRef
    mode: URIRef
    evidence: URIRef
    inArticle: URIRef
    mentionedIn: URIRef
    affiliation: URIRef
    tenure: URIRef
    ofPost: URIRef
    locatedIn: URIRef
    possiblySame: URIRef
    # data properties
    date: URIRef
    quote: URIRef
    startOffset: URIRef
    endOffset: URIRef
    roleLabel: URIRef
    observedOn: URIRef
    firstObserved: URIRef
    lastObserved: URIRef
    contentHash: URIRef
    isoCode: URIRef
    nameKey: URIRef


def _declare_terms(*namespaces: type[DefinedNamespace]) -> None:
    """Make each term a namespace declares a plain class attribute, holding the IRI rdflib would give.

    rdflib resolves ``DG.Meeting`` through its metaclass's ``__getattr__`` on every access (checks, then a
    new ``URIRef``): about a microsecond, and a build of 10^7 triples reads such terms tens of millions of
    times. Undeclared names still go through ``__getattr__``, so a closed namespace still raises."""
    for namespace in namespaces:
        for name in namespace.__annotations__:
            if not name.startswith("_") and name not in namespace.__dict__:
                type.__setattr__(namespace, name, namespace._NS[name])


_declare_terms(DG, DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SKOS, XSD)

SEM = Namespace("http://semanticweb.cs.vu.nl/2009/11/sem/")
SCHEMA = Namespace("https://schema.org/")
WD = Namespace("http://www.wikidata.org/entity/")
TIME = Namespace("http://www.w3.org/2006/time#")
OA = Namespace("http://www.w3.org/ns/oa#")

ID = Namespace(BASE + "id/")
TOPIC = Namespace(BASE + "topic/")
ROLE = Namespace(BASE + "role/")
TOPIC_SCHEME = URIRef(BASE + "topic")
ROLE_SCHEME = URIRef(BASE + "role")

PREFIXES: dict[str, Namespace] = {
    "dg": DG._NS,
    "dgid": ID,
    "topic": TOPIC,
    "role": ROLE,
    "dcterms": DCTERMS,
    "foaf": FOAF,
    "org": ORG,
    "owl": OWL,
    "prov": PROV,
    "rdf": RDF,
    "rdfs": RDFS,
    "skos": SKOS,
    "xsd": XSD,
    "sem": SEM,
    "schema": SCHEMA,
    "wd": WD,
    "time": TIME,
    "oa": OA,
}


def bind_prefixes(graph) -> None:
    """Bind every project prefix on ``graph`` so serialisations are readable."""
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
