"""Article extraction: one saved or fetched page in, one ArticleItem out.

For every field the methods are tried in trust order (site selectors from the registry,
JSON-LD, OpenGraph, other `<meta>`, `<time>`, date lines, layout heuristics) through
ArticleLoader, whose input processors reject unusable values, so a broken JSON-LD date
falls through to the next method instead of ending up stored. ``methods`` records which
method produced each field, for debugging (`qpan extract` shows it), and
``title_truncated_from`` (the original length) when a title was cut to ``MAX_TITLE_CHARS``.

Hostile text is cleaned, never fatal: control characters are removed from the decoded page
before lxml sees it (lxml refuses them, and the whole article was lost to one form feed),
and the metadata labels lose bidirectional overrides (see ``loaders.text_of``).
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import lxml.html
from lxml.etree import ParserError
from lxml.html import HtmlElement
from parsel import Selector

from qpan.config import Selectors
from qpan.crawler import loaders  # module import: crawler.loaders itself imports crawler.extraction.dates
from qpan.crawler.extraction import generic, metadata
from qpan.crawler.extraction.encoding import decode_html, plain_utf8
from qpan.crawler.urls import canonicalize_url
from qpan.items import ArticleItem
from qpan.pipelines.normalize import cap_title, strip_controls
from qpan.timezone import VIETNAM

__all__ = ["extract_article", "guess_language", "is_article_page", "parse_html"]

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_VIETNAMESE_LETTERS = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)
_NON_LETTERS = re.compile(r"[\W\d_]+")  # deleting runs of these is cheaper than listing every letter
_VIETNAMESE_SHARE = 0.04
_LANGUAGE_SAMPLE = 2000
_MIN_LETTERS = 20  # fewer letters say nothing about the language
_METADATA_FIELDS = ("title", "published", "author", "section", "canonical_url", "language")
_SELECTOR_FIELDS = ("title", "published", "author", "section")
_SELECTOR_NAMES = {"published": "date"}  # item field -> qpan.config.Selectors attribute
_UNDATED_ARTICLE_CHARS = 800
_UNDATED_MIN_PARAGRAPHS = 3
_PARAGRAPH_CHARS = 80
# each control byte on its own: 29 memchr scans of a page cost half a copy of it without them
_CONTROL_BYTES = tuple(bytes([byte]) for byte in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F))
_NONCHARACTERS = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")  # U+FFFE and U+FFFF in UTF-8


def _decoded(body: bytes | str, declared_encoding: str | None) -> tuple[str, bytes | None]:
    """The page as text, without the characters lxml refuses (see ``strip_controls``); and the
    bytes as well when they are that very text in UTF-8, for lxml to parse (see ``_parsed``).

    Scanning the text costs about as much as decoding it (7 ms against 4 ms for the 2.4 MB
    of saved and real article pages); bytes with no control byte decode to text without one
    (as UTF-8, a windows code page or a font encoding; UTF-16 is full of zero bytes, so it
    takes the scan), and checking the bytes, one memchr per control byte, takes under 1 ms.
    U+FFFE/U+FFFF, which libxml2 keeps and lxml then refuses, are found by their UTF-8 bytes.
    """
    if isinstance(body, str):
        return strip_controls(body), None
    plain = plain_utf8(body)
    page = plain if plain is not None else decode_html(body, declared_encoding)[0]
    controls = any(map(body.__contains__, _CONTROL_BYTES))
    # U+FFFE/U+FFFF start with the byte EF, which Vietnamese text hardly uses: one memchr rules them out
    noncharacters = b"\xef" in body and any(sequence in body for sequence in _NONCHARACTERS)
    if controls or noncharacters:
        return strip_controls(page), None
    return page, body if plain is not None else None


def parse_html(text: str) -> HtmlElement | None:
    """Parse a decoded page once; the same tree serves metadata, selectors and the body scorer."""
    text = _XML_DECLARATION.sub("", text, count=1)
    if not text or text.isspace():
        return None
    return _document(text, generic.HTML_PARSER)


def _document(markup: str | bytes, parser: Any) -> HtmlElement | None:
    """The parsed document, or None where lxml refuses the markup."""
    try:
        return lxml.html.document_fromstring(markup, parser=parser)
    except (ParserError, ValueError):
        return None


def _parsed(page: str, utf8: bytes | None) -> HtmlElement | None:
    """``parse_html(page)``, from ``page``'s UTF-8 bytes when there are any: lxml hands text to
    libxml2 as UTF-16, converted back to UTF-8 before parsing, a sixth of the parse. The tree is
    the same: the encoding is given either way, so the page's own charset declaration is ignored,
    and an XML declaration, which ``parse_html`` cuts because lxml refuses it in text, becomes a
    comment beside ``<html>``, where nothing looks."""
    if utf8 is None:
        return parse_html(page)
    if not page or page.isspace():
        return None
    return _document(utf8, generic.UTF8_HTML_PARSER)


def guess_language(text: str) -> str | None:
    """ "vi" when enough letters carry Vietnamese-only diacritics; None when unsure.

    Counting the letters is the costly part (a Unicode class over the sample, 50 µs a page) and
    the answer seldom needs it: no Vietnamese letter means None whatever the count, and 20 or
    more that are a large enough share even of every character but the spaces mean "vi".
    """
    sample = text[:_LANGUAGE_SAMPLE]
    vietnamese = len(_VIETNAMESE_LETTERS.findall(sample))
    if not vietnamese:
        return None
    if vietnamese >= _MIN_LETTERS and vietnamese / (len(sample) - sample.count(" ")) >= _VIETNAMESE_SHARE:
        return "vi"
    letters = len(_NON_LETTERS.sub("", sample))
    if letters < _MIN_LETTERS:
        return None
    return "vi" if vietnamese / letters >= _VIETNAMESE_SHARE else None


def _load_field(
    field: str, offers: list[tuple[str, Any]], context: dict[str, Any], methods: dict[str, str]
) -> list[Any]:
    """Offer candidates method by method; the first that survives the input processors wins.

    Returns what survived (empty when nothing did). Later methods are never computed: the
    costly ones (layout scans, the body scorer, trafilatura) are thunks for that reason.
    """
    for method, values in offers:
        found = values() if callable(values) else values
        if not found:
            continue
        kept = loaders.process_input(field, found, context)
        if kept:
            methods[field] = method
            return kept
    return []


def _selector_offers(selector: Selector | None, selectors: Selectors | None, field: str) -> list[tuple[str, Any]]:
    query = getattr(selectors, _SELECTOR_NAMES.get(field, field), None) if selectors else None
    return [("selector", lambda: selector.css(query).getall())] if query else []


def _selected_body(selector: Selector | None, selectors: Selectors | None) -> str | None:
    if selector is None or not selectors or not selectors.body:
        return None
    found = selector.css(selectors.body)
    for unwanted in selectors.remove:
        found.css(unwanted).drop()
    return "\n".join(found.getall()) or None


def _jsonld_body(text: str | None) -> str | None:
    if not text:
        return None
    paragraphs = [line.strip() for line in text.splitlines() if line.strip()]
    return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs) or None


def _trafilatura_body(page: str, url: str) -> str | None:
    import trafilatura

    found = trafilatura.extract(page, url=url, output_format="html", include_comments=False)
    if not found:
        return None
    tree = lxml.html.document_fromstring(found)
    body = tree.find("body")
    return lxml.html.tostring(body if body is not None else tree, encoding="unicode")


def _body_offers(
    root: HtmlElement,
    page: str,
    url: str,
    selector: Selector | None,
    selectors: Selectors | None,
    facts: dict[str, Any],
    title: str | None,
) -> list[tuple[str, Any]]:
    """Body candidates; each is kept only if it holds enough text, else the next is tried.

    A candidate is measured stripped, as the input processor will store it, so that
    ``body_text`` (cached) parses the winning fragment once for this check and the
    language guess; the generic extractor's text floor mostly spares that parse.
    """

    def usable(fragment: str | None, text_floor: int = 0) -> list[str]:
        fragment = fragment.strip() if fragment else fragment
        if fragment and (
            text_floor >= generic.MIN_BODY_CHARS or len(generic.body_text(fragment)) >= generic.MIN_BODY_CHARS
        ):
            return [fragment]
        return []

    def generic_body() -> list[str]:
        found = generic.extract_body(root, title=title)
        return usable(*found) if found else []

    return [
        ("selector", lambda: usable(_selected_body(selector, selectors))),
        ("generic", generic_body),
        ("jsonld", lambda: usable(_jsonld_body(facts.get("jsonld_body")))),
        ("trafilatura", lambda: usable(_trafilatura_body(page, url))),
    ]


def extract_article(
    body: bytes | str,
    url: str,
    *,
    source: str,
    declared_encoding: str | None = None,
    selectors: Selectors | None = None,
    reference: datetime | None = None,
) -> ArticleItem:
    """Extract one article page into an ArticleItem (url, canonical_url, title, published, ...).

    ``declared_encoding`` is the HTTP charset; ``selectors`` are the source's registry
    selectors; ``reference`` dates year-less date lines (default: now). A page that
    cannot be parsed yields an item with an empty body, for the clean stage to drop.
    """
    fetched_at = datetime.now(UTC)
    page, utf8 = _decoded(body, declared_encoding)
    root = _parsed(page, utf8)
    reference = reference or fetched_at
    context: dict[str, Any] = {"url": url, "reference": reference}
    # field -> collected values, in the order a loader would fill the item
    collected = {
        field: loaders.process_input(field, value, context)
        for field, value in (("url", url), ("source", source), ("fetched_at", fetched_at))
    }
    if root is None:
        collected["canonical_url"] = loaders.process_input("canonical_url", url, context)
        item = _item(collected)
        item["body_html"] = ""
        item["methods"] = {"canonical_url": "url"}
        return item

    methods: dict[str, str] = {}
    candidates, facts = metadata.collect(root, url, reference.astimezone(VIETNAM).date())
    context["site_name"] = facts["site_name"]
    selector = Selector(root=root, type="html") if selectors else None
    for field in _METADATA_FIELDS:
        offers = _selector_offers(selector, selectors, field) if field in _SELECTOR_FIELDS else []
        collected[field] = _load_field(field, offers + candidates.get(field, []), context, methods)
    title = loaders.output_value(collected["title"])
    offers = _body_offers(root, page, url, selector, selectors, facts, title)
    collected["body_html"] = _load_field("body_html", offers, context, methods)

    item = _item(collected)
    if "title" in item:
        item["title"], cut = cap_title(item["title"])
        if cut:
            methods["title_truncated_from"] = len(title)
    if "canonical_url" not in item:
        item["canonical_url"] = canonicalize_url(url)
        methods["canonical_url"] = "url"
    # the guess is "vi" or nothing: a page the markup already says is "vi" keeps it whatever the
    # guess, and its body need not be read again for it
    if item.get("language") != "vi" and guess_language(
        generic.body_text(item.get("body_html", "")) or item.get("title", "")
    ):
        item["language"] = "vi"
        methods["language"] = "heuristic"
    item.setdefault("body_html", "")
    item["methods"] = methods
    return item


def _item(collected: dict[str, list[Any]]) -> ArticleItem:
    """The item ArticleLoader.load_item would build: each field's output value, unless there is none."""
    item = ArticleItem()
    for field, values in collected.items():
        if values and (value := loaders.output_value(values)) is not None:
            item[field] = value
    return item


def is_article_page(item: ArticleItem) -> bool:
    """Whether an extracted page is an article rather than a listing, tag or home page.

    Spiders use it for links they could not classify by URL: a dated page with a title
    and a real body is an article; an undated one needs a longer body made of real
    paragraphs (a listing's link texts are short lines).
    """
    if not item.get("title"):
        return False
    text = generic.body_text(item.get("body_html") or "")
    if item.get("published") is not None:
        return len(text) >= generic.MIN_BODY_CHARS
    paragraphs = [line for line in text.splitlines() if len(line) >= _PARAGRAPH_CHARS]
    return len(text) >= _UNDATED_ARTICLE_CHARS and len(paragraphs) >= _UNDATED_MIN_PARAGRAPHS
