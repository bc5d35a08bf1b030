"""Article metadata a page declares about itself: JSON-LD, OpenGraph, `<meta>`, `<time>`, date lines.

`collect()` returns, per item field, the candidate values in the order they should be
trusted, each tagged with the method that found it; extract_article feeds them to the
ItemLoader until one survives its input processors. Machine-readable metadata comes
before anything inferred from layout.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator
from datetime import date
from functools import lru_cache
from itertools import islice
from typing import Any

from lxml import etree
from lxml.html import HtmlElement

from qpan.crawler.extraction.dates import parse_date
from qpan.crawler.extraction.generic import inner_text

Values = Callable[[], list[str]]
Candidates = dict[str, list[tuple[str, Values]]]

ARTICLE_TYPES = frozenset(
    {
        "newsarticle",
        "article",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "blogposting",
        "opinionnewsarticle",
        "reviewnewsarticle",
        "backgroundnewsarticle",
        "report",
        "liveblogposting",
    }
)
_META_DATE_KEYS = (
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "date",
    "dc.date",
    "dc.date.issued",
    "dcterms.created",
    "dcterms.issued",
    "article:published_time",
    "datepublished",
    "og:published_time",
    "sailthru.date",
    "parsely-pub-date",
    "created",
    "date_published",
)
_META_AUTHOR_KEYS = ("author", "dc.creator", "dcterms.creator", "sailthru.author", "parsely-author")
_META_SECTION_KEYS = ("section", "category", "parsely-section", "articlesection")


def _hint_test(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    """Whether a class/id hint matches ``pattern``, cached per hint: a site's pages share their
    class names, so the layout scans see the same few hundred hints again and again. The hint
    is lower-cased rather than the pattern made case-insensitive (several times slower)."""

    @lru_cache(maxsize=8192)
    def test(hint: str) -> bool:
        return pattern.search(hint.lower()) is not None

    return test


_DATELINE_HINT = _hint_test(re.compile(r"date|time|publish|ngay|thoi-?gian|post-?info|meta|dateline"))
# no alternative matches a space, so a hint matches exactly when one of its values does
_BYLINE_PATTERN = re.compile(r"author|byline|tac-?gia|writer|reporter|nguoi-?viet")
_BYLINE_HINT = _hint_test(_BYLINE_PATTERN)
# XPath pre-filters (in document order) so the layout scans skip the bulk of the page in C.
# They step to the attribute and back to its element ("//@class/..") rather than testing every
# element ("//*[@class]"): libxml2 evaluates a predicate per node at a cost, an attribute step
# is a plain walk, and the same elements come back in half the time or less.
_DATELINE_ELEMENTS = etree.XPath("//h1 | //time | //@class/.. | //@id/..")
_CANONICAL_LINKS = ".//link[@rel='canonical']"
_MICRODATA_DATES = etree.XPath("//@itemprop[.='datePublished']/..")
# the class, id and itemprop values as strings that know their element, in document order; and
# all of them run together into one string (EXSLT's str:concat, so no Python string per value)
_HINT_VALUES = etree.XPath(
    "descendant-or-self::*/@class | descendant-or-self::*/@id | descendant-or-self::*/@itemprop"
)
_ALL_HINT_VALUES = etree.XPath(
    "concat(str:concat(descendant-or-self::*/@class), ' ', str:concat(descendant-or-self::*/@id), ' ',"
    " str:concat(descendant-or-self::*/@itemprop))",  # three walks, cheaper than one union to sort
    namespaces={"str": "http://exslt.org/strings"},
)
_SIGNATURE_ELEMENTS = etree.XPath("descendant-or-self::p[@style or @align] | descendant-or-self::div[@style or @align]")
_URL_STAMP = re.compile(r"(20\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?\d*\.(?:html?|vnp|chn|ldo)$")
_MAX_DATELINE_CHARS = 90
_MAX_BYLINE_CHARS = 80
_MAX_SIGNATURE_CHARS = 40
_MAX_SIGNATURE_WORDS = 5
_RIGHT_ALIGNED = re.compile(r"text-align\s*:\s*right|align=right", re.I)


def _json_nodes(value: Any) -> Iterator[dict[str, Any]]:
    """Every object in a JSON-LD document: top-level lists, @graph, and nested lists."""
    if isinstance(value, list):
        for entry in value:
            yield from _json_nodes(entry)
    elif isinstance(value, dict):
        yield value
        if "@graph" in value:
            yield from _json_nodes(value["@graph"])


def _types(node: dict[str, Any]) -> set[str]:
    raw = node.get("@type", [])
    names = raw if isinstance(raw, list) else [raw]
    return {str(name).rsplit("/", 1)[-1].lower() for name in names}


def _names(value: Any) -> list[str]:
    """Person/Organisation names from a string, an object with "name", or a list of those."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        name = value.get("name")
        return [name] if isinstance(name, str) else []
    if isinstance(value, list):
        return [name for entry in value for name in _names(entry)]
    return []


def _first_str(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return next((v for v in value if isinstance(v, str)), None)
    if isinstance(value, dict):
        return _first_str(value.get("@id") or value.get("url"))
    return None


def _unescaped(value: Any) -> Any:
    """JSON-LD with its string values' HTML entities decoded, at any depth.

    A ``<script>`` holds raw text, so an entity in it is never decoded by the HTML parser;
    CMSs that HTML-escape before embedding (tuoitre writes ``"Chi&amp;#7871;n s&amp;#7921;"``)
    would otherwise leave entities in titles, authors and the article body.
    """
    if isinstance(value, str):
        return html.unescape(value) if "&" in value else value
    if isinstance(value, list):
        return [_unescaped(entry) for entry in value]
    if isinstance(value, dict):
        return {key: _unescaped(entry) for key, entry in value.items()}
    return value


def jsonld_article(root: HtmlElement) -> dict[str, Any] | None:
    """The first Article-like JSON-LD object on the page (lists and @graph searched), entities decoded."""
    for script in root.iterfind(".//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "", strict=False)
        except ValueError:
            continue
        for node in _json_nodes(data):
            if _types(node) & ARTICLE_TYPES:
                return _unescaped(node)
    return None


def meta_tags(root: HtmlElement) -> dict[str, str]:
    """`<meta>` content keyed by lower-cased property / name / itemprop / http-equiv; first wins."""
    found: dict[str, str] = {}
    for meta in root.iterfind(".//meta"):
        content = meta.get("content")
        if content is None or not content.strip():
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = meta.get(attr)
            if key:
                found.setdefault(key.strip().lower(), content.strip())
    return found


def _datelines(root: HtmlElement, reference: date | None) -> list[str]:
    """Short date-looking texts in elements whose class/id says date/time, nearest after the h1 first."""
    h1_seen = False
    before: list[str] = []
    after: list[str] = []
    for element in _DATELINE_ELEMENTS(root):
        if element.tag == "h1":
            h1_seen = True
            continue
        if element.tag != "time" and not _DATELINE_HINT(f"{element.get('class', '')} {element.get('id', '')}"):
            continue
        text = " ".join(inner_text(element).split())
        if 6 <= len(text) <= _MAX_DATELINE_CHARS and parse_date(text, reference=reference) is not None:
            (after if h1_seen else before).append(text)
    return after + before


def _bylines(root: HtmlElement) -> list[str]:
    """Author-looking elements by class/id/itemprop, then the right-aligned signature line
    Vietnamese papers put under the story ("<p style="text-align:right"><strong>Việt Hưng</strong>")."""
    # Most pages mark no byline at all: one search over all their class/id/itemprop values says
    # so, and then only the signature candidates need a look. (Run together, two values can make
    # a match neither has: that costs the look at the marked ones, which finds nothing.)
    marked = _marked_bylines(root) if _BYLINE_PATTERN.search(_ALL_HINT_VALUES(root).lower()) else []
    signed = []
    for element in _SIGNATURE_ELEMENTS(root):
        if _BYLINE_HINT(f"{element.get('class', '')} {element.get('id', '')} {element.get('itemprop', '')}"):
            continue  # marked as a byline: read as one, never as a signature
        if _RIGHT_ALIGNED.search(f"{element.get('style', '')} align={element.get('align', '')}"):
            text = " ".join(inner_text(element).split())
            if 2 <= len(text) <= _MAX_SIGNATURE_CHARS and len(text.split()) <= _MAX_SIGNATURE_WORDS:
                signed.append(text)
    return marked + signed[-1:]


def _marked_bylines(root: HtmlElement) -> list[str]:
    """The short texts of the elements a class, id or itemprop value marks as a byline, in document order.

    Only the elements holding a matching value are read, found through the values themselves
    (an element is marked when one of its values is). A page of a few hundred marked-up
    elements thus costs one XPath walk, not a Python look at each element.
    """
    found = []
    last = None
    for value in _HINT_VALUES(root):
        # str(): the cache must not keep the value, which keeps its element and the whole page
        if not _BYLINE_HINT(str(value)) or (element := value.getparent()) is last:
            continue
        last = element
        if element.tag in ("meta", "link", "script"):
            continue
        text = " ".join(inner_text(element).split())
        if 2 <= len(text) <= _MAX_BYLINE_CHARS:
            found.append(text)
    return found


def _strings(values: Any) -> list[str]:
    return [v.strip() for v in (values if isinstance(values, list) else [values]) if isinstance(v, str) and v.strip()]


def _microdata_dates(root: HtmlElement) -> list[str]:
    elements = _MICRODATA_DATES(root)
    return [e.get("datetime") or e.get("content") or inner_text(e) for e in elements]


def _add(candidates: Candidates, field: str, method: str, values: Any) -> None:
    """Queue values (or a zero-argument function computing them, for costly layout scans)."""
    thunk = values if callable(values) else (lambda: values)
    candidates.setdefault(field, []).append((method, lambda: _strings(thunk())))


def collect(root: HtmlElement, url: str, reference: date | None = None) -> tuple[Candidates, dict[str, Any]]:
    """Candidates per field, in trust order (each a (method, thunk) pair), plus facts for later steps.

    The facts are: ``site_name`` (for stripping title suffixes) and ``jsonld_body``
    (articleBody text, a body fallback).
    """
    candidates: Candidates = {}
    node = jsonld_article(root) or {}
    meta = meta_tags(root)

    # tree reads are thunks: most pages settle these fields from JSON-LD before they would count
    _add(candidates, "canonical_url", "link", lambda: [e.get("href", "") for e in root.iterfind(_CANONICAL_LINKS)])
    _add(candidates, "canonical_url", "opengraph", meta.get("og:url"))
    _add(candidates, "canonical_url", "jsonld", [_first_str(node.get(k)) or "" for k in ("mainEntityOfPage", "url")])

    _add(candidates, "title", "jsonld", node.get("headline") or node.get("name"))
    _add(candidates, "title", "opengraph", meta.get("og:title"))
    _add(candidates, "title", "h1", lambda: [inner_text(e) for e in islice(root.iterfind(".//h1"), 1)])
    _add(candidates, "title", "title", lambda: [inner_text(e) for e in islice(root.iterfind(".//title"), 1)])

    _add(candidates, "published", "jsonld", node.get("datePublished") or node.get("dateCreated"))
    _add(candidates, "published", "opengraph", meta.get("article:published_time"))
    _add(candidates, "published", "meta", [meta[k] for k in _META_DATE_KEYS if k in meta])
    _add(candidates, "published", "time", lambda: [e.get("datetime", "") for e in root.iterfind(".//time[@datetime]")])
    _add(candidates, "published", "microdata", lambda: _microdata_dates(root))
    _add(candidates, "published", "dateline", lambda: _datelines(root, reference))
    stamp = _URL_STAMP.search(url.split("?", 1)[0])
    if stamp:
        _add(candidates, "published", "url", "".join(part or "00" for part in stamp.groups()))

    _add(candidates, "author", "jsonld", _names(node.get("author")))
    _add(candidates, "author", "opengraph", meta.get("article:author"))
    _add(candidates, "author", "meta", [meta[k] for k in _META_AUTHOR_KEYS if k in meta])
    _add(candidates, "author", "byline", lambda: _bylines(root))

    _add(candidates, "section", "jsonld", _first_str(node.get("articleSection")))
    _add(candidates, "section", "opengraph", meta.get("article:section"))
    _add(candidates, "section", "meta", [meta[k] for k in _META_SECTION_KEYS if k in meta])

    _add(candidates, "language", "html", root.get("lang") or root.get("xml:lang") or "")
    _add(candidates, "language", "jsonld", _first_str(node.get("inLanguage")))
    _add(candidates, "language", "opengraph", meta.get("og:locale"))
    _add(candidates, "language", "meta", [meta[k] for k in ("content-language", "language") if k in meta])

    facts = {
        "site_name": meta.get("og:site_name") or next(iter(_names(node.get("publisher"))), None),
        "jsonld_body": node.get("articleBody") if isinstance(node.get("articleBody"), str) else None,
    }
    return candidates, facts
