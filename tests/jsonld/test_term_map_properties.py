"""TermMap agrees with pyld: random names and random user contexts, expanded with
`jsonld.expand` and compacted with `jsonld.compact` of a small document.

The oracle context is ``[core, user]``, the order in which plain JSON-LD gives the user's
@vocab effect; user contexts here never redefine core terms (that case, where NGSI-LD departs
from plain JSON-LD, is covered in test_term_map.py).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pyld import jsonld

from broker.errors import BadRequestData
from broker.jsonld import TermMap
from broker.jsonld.core import core_context_document
from broker.jsonld.processing import KEYWORDS, process_user_context

CORE_TERMS = frozenset(core_context_document()["@context"])
CORE_CONTEXT = core_context_document()["@context"]
NGSI = "https://uri.etsi.org/ngsi-ld/"
DEFAULT = NGSI + "default-context/"
PROPERTY_VALUE = {"@type": [NGSI + "Property"], NGSI + "hasValue": [{"@value": "v"}]}

BASES = (
    "https://a.example/",
    "https://b.example/ns#",
    "http://c.example/vocab/",
    "urn:x:",
    DEFAULT,
    NGSI,
)

names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
    lambda n: n not in CORE_TERMS
)
iris = st.builds(lambda base, name: base + name, st.sampled_from(BASES), names)
prefix_iris = st.sampled_from([b for b in BASES if b[-1] in "/#:"])


def _definition(iri: str, kind: str) -> Any:
    shapes: dict[str, Any] = {
        "plain": iri,
        "id": {"@id": iri},
        "ref": {"@id": iri, "@type": "@id"},
        "vocab": {"@id": iri, "@type": "@vocab"},
        "set": {"@id": iri, "@container": "@set"},
        "list": {"@id": iri, "@container": "@list"},
        "typed": {"@id": iri, "@type": NGSI + "DateTime"},
    }
    return shapes[kind]


@st.composite
def user_contexts(draw: st.DrawFn) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for prefix in draw(st.lists(names, max_size=2, unique=True)):
        context[prefix] = draw(prefix_iris)
    prefixes = list(context)
    kinds = st.sampled_from(["plain", "id", "ref", "vocab", "set", "list", "typed"])
    for term in draw(st.lists(names, max_size=5, unique=True)):
        if term in context:
            continue
        if prefixes and draw(st.booleans()):
            iri: str = f"{draw(st.sampled_from(prefixes))}:{draw(names)}"
        else:
            iri = draw(iris)
        context[term] = _definition(iri, draw(kinds))
    if draw(st.booleans()):
        context["@vocab"] = draw(prefix_iris)
    return context


def _loader(url: str, options: Any = None) -> dict[str, Any]:
    raise AssertionError(f"the oracle must not load {url}")


OPTIONS = {"documentLoader": _loader}


def _oracle_expand(context: dict[str, Any], name: str) -> tuple[str | None, str | None]:
    """(property IRI, @type IRI) as pyld expands `name` in each position."""
    document = {"@context": [CORE_CONTEXT, context], name: "v", "@type": name}
    expanded = jsonld.expand(document, OPTIONS)
    if not expanded:
        return None, None
    node = expanded[0]
    properties = [key for key in node if key != "@type"]
    types = node.get("@type") or [None]
    return (properties[0] if properties else None), types[0]


def _oracle_compact(context: dict[str, Any], iri: str) -> str:
    document = [{iri: [PROPERTY_VALUE]}]
    compacted = jsonld.compact(document, {"@context": [CORE_CONTEXT, context]}, OPTIONS)
    keys = [key for key in compacted if key != "@context"]
    assert len(keys) == 1, compacted
    return keys[0]


def _oracle_mappings(context: dict[str, Any]) -> Any:
    processor = jsonld.JsonLdProcessor()
    active = processor.process_context(
        processor._get_initial_context({}), [CORE_CONTEXT, context], OPTIONS
    )
    return active["mappings"]


def _term_map(context: dict[str, Any]) -> TermMap:
    return TermMap(process_user_context(context, {}), context=context, link_url="u")


@st.composite
def names_for(draw: st.DrawFn, context: dict[str, Any]) -> str:
    defined = [k for k in context if not k.startswith("@")]
    prefixes = [k for k, v in context.items() if isinstance(v, str) and v[-1] in "/#:"]
    choices = [
        names,
        st.sampled_from(sorted(CORE_TERMS - {"id", "type", "@version", "@protected", "@vocab"})),
        st.builds(lambda p, n: f"{p}:{n}", st.sampled_from(["ngsi-ld", "geojson"]), names),
        iris,
    ]
    if defined:
        choices.append(st.sampled_from(defined))
        # Any term before a colon, prefix or not: only prefixes may expand there.
        any_terms = st.sampled_from([*defined, "Property", "location", "ngsi-ld"])
        choices.append(st.builds(lambda t, n: f"{t}:{n}", any_terms, names))
    if prefixes:
        choices.append(st.builds(lambda p, n: f"{p}:{n}", st.sampled_from(prefixes), names))
    return draw(st.one_of(choices))


@st.composite
def contexts_with_names(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    context = draw(user_contexts())
    return context, draw(st.lists(names_for(context), min_size=1, max_size=4))


def _expanded_value(context: dict[str, Any], value: str) -> str:
    prefix, _, rest = value.partition(":")
    base = context.get(prefix)
    return base + rest if isinstance(base, str) and not rest.startswith("//") else value


@st.composite
def contexts_with_iris(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    context = draw(user_contexts())
    targets: list[Any] = [iris, st.sampled_from([DEFAULT + "speed", NGSI + "location"])]
    user_iris = sorted(
        _expanded_value(context, v if isinstance(v, str) else v["@id"])
        for k, v in context.items()
        if k != "@vocab"
    )
    defined = [k for k in context if not k.startswith("@")]
    if defined:
        # The vocab-relative form of a defined term must not compact to that term.
        vocab = context.get("@vocab", DEFAULT)
        targets.append(st.builds(lambda t: vocab + t, st.sampled_from(defined)))
    if user_iris:
        targets.append(st.sampled_from(user_iris))
        targets.append(st.builds(lambda b, n: b + n, st.sampled_from(user_iris), names))
    return context, draw(st.lists(st.one_of(targets), min_size=1, max_size=4))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contexts_with_names())
def test_expand_term_agrees_with_pyld_expand(case: tuple[dict[str, Any], list[str]]) -> None:
    context, terms = case
    term_map = _term_map(context)
    for name in terms:
        assume(name not in KEYWORDS)
        as_property, as_type = _oracle_expand(context, name)
        assert as_property == as_type or as_type is None
        if as_property is None:
            try:
                term_map.expand_term(name)
            except BadRequestData:
                continue
            raise AssertionError(f"pyld drops {name!r} but TermMap expands it")
        assert term_map.expand_term(name) == as_property, (context, name)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contexts_with_iris())
def test_compact_iri_agrees_with_pyld_compact(case: tuple[dict[str, Any], list[str]]) -> None:
    context, targets = case
    term_map = _term_map(context)
    mappings = _oracle_mappings(context)
    for iri in targets:
        try:
            expected = _oracle_compact(context, iri)
        except jsonld.JsonLdError:
            continue  # e.g. "IRI confused with prefix": pyld refuses, TermMap gives the IRI
        ours = term_map.compact_iri(iri)
        candidates = sorted(
            (term for term, m in mappings.items() if m and m.get("@id") == iri),
            key=lambda t: (len(t), t),
        )
        if expected in mappings and mappings[expected] and mappings[expected]["@id"] == iri:
            assert ours == expected, (context, iri)
        elif candidates:
            # No term JSON-LD would pick for an attribute value, but some term maps to the
            # IRI: TermMap gives the shortest such term rather than the IRI.
            assert ours == candidates[0], (context, iri)
        elif term_map.expand_term(expected) == iri:
            assert ours == expected, (context, iri)
        else:
            assert term_map.expand_term(ours) == iri, (context, iri)
