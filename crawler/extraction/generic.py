"""Generic main-text extraction: find the block of the page where the paragraphs are.

A lean readability-style scorer on the already-parsed lxml tree: every paragraph-like
element scores by its length and commas, the score flows to its parent and grandparent,
link-heavy containers are discounted, and the best container plus its paragraph-like
siblings is the article body. It runs on every page a crawl fetches, so it avoids
anything quadratic and a second parse; trafilatura is only the fallback when this
finds too little (see extract_article).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import lxml.html
from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction

MIN_BODY_CHARS = 200
# lxml.html's own parser calls a Python lookup for the class of every element proxy a scan
# creates (a few percent of extraction); this one picks the same lxml.html classes in C. Only
# the form-specific subclasses (FormElement, InputElement...) are lost, which nothing here uses.
_CLASS_LOOKUP = etree.ElementDefaultClassLookup(
    element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
)
HTML_PARSER = etree.HTMLParser()
HTML_PARSER.set_element_class_lookup(_CLASS_LOOKUP)
# for pages whose bytes are plain UTF-8 (see extract_article): the declared encoding is ignored,
# as it is when lxml parses text
UTF8_HTML_PARSER = etree.HTMLParser(encoding="utf-8")
UTF8_HTML_PARSER.set_element_class_lookup(_CLASS_LOOKUP)
_MIN_PARAGRAPH_CHARS = 25
_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "iframe",
    "form",
    "nav",
    "footer",
    "aside",
    "button",
    "input",
    "select",
    "textarea",
    "svg",
    "template",
    "link",
    "meta",
    "object",
    "embed",
    "canvas",
    "header",
)
_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "table",
        "tbody",
        "tr",
        "td",
        "th",
        "ul",
        "ol",
        "li",
        "blockquote",
        "pre",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "figure",
        "figcaption",
        "dl",
        "dt",
        "dd",
        "main",
        "hr",
    }
)
_PARAGRAPH_TAGS = ("p", "td", "pre", "blockquote", "div", "li", "h2", "h3")
# Always boilerplate, whatever else the class says.
# The patterns are matched against the lower-cased hint (re.IGNORECASE makes them ~4x slower).
_HARD_NEGATIVE = re.compile(
    r"comment|binh-?luan|share|sharing|social|breadcrumb|(?:^|[\s_-])ads?(?:$|[\s_-])|advert|quang-?cao|"
    r"related|lien-?quan|tin-?khac|xem-?them|read-?more|(?:^|[\s_-])tags?(?:$|[\s_-])|keyword|popup|modal|"
    r"newsletter|subscribe|rating|print-?btn|hotline|copyright",
)
# Boilerplate unless it holds a lot of unlinked text (vnexpress wraps the article in "sidebar-1").
_SOFT_NEGATIVE = re.compile(
    r"sidebar|side-bar|footer|menu|nav|banner|widget|most-?read|xem-?nhieu|doc-?nhieu|tin-?moi|box-?news|"
    r"list-?news|morenews|other|author-?box|toolbar|slide|top-?news|event",
)
_POSITIVE = re.compile(r"article|content|detail|body|entry|post|main|story|text|noi-?dung|chi-?tiet|fck|cms")
_SOFT_KEEP_CHARS = 300
_LINK_LIST_MAX_CHARS = 400
_SOFT_KEEP_LINK_DENSITY = 0.3
_CLASS_WEIGHT = 25.0
_LINK_TEXT = etree.XPath(".//a//text()", smart_strings=False)  # plain str: only lengths are needed
# only elements with a class or id can be judged by their hint; the XPaths skip the rest in C
# (through the attribute axis, twice as fast as a predicate per element: see metadata.py), and
# they are two lists rather than one union sorted into document order: verdicts do not depend on
# each other, and the dropped subtrees leave the same tree whatever the order they go in
_CLASSED = etree.XPath("descendant::*/@class/..")
_ID_ONLY = etree.XPath("descendant::*/@id/parent::*[not(@class)]")


@lru_cache(maxsize=8192)
def _judge(hint: str) -> tuple[bool, bool, bool]:
    """(hard negative, soft negative, positive) for a class/id hint; cached because a site's
    pages share their class names, so a crawl sees the same few hundred hints again and again."""
    lowered = hint.lower()
    return (
        bool(_HARD_NEGATIVE.search(lowered)),
        bool(_SOFT_NEGATIVE.search(lowered)),
        bool(_POSITIVE.search(lowered)),
    )


def inner_text(element: HtmlElement) -> str:
    """The text inside ``element``, exactly as ``text_content()`` gives it, in a third of the time:
    serialising to text runs in C, where ``text_content()`` sets up an XPath evaluation per call.
    The scorer asks for it on every paragraph and container of the page."""
    return etree.tostring(element, method="text", encoding="unicode", with_tail=False)


def text_length(element: HtmlElement) -> int:
    """Characters of text, surrounding whitespace excluded (inner runs count: cheap and close enough)."""
    return len(inner_text(element).strip())


def link_density(element: HtmlElement, text: str | None = None) -> float:
    """Share of an element's text that sits inside links: navigation is nearly all link.

    ``text`` is the element's ``inner_text`` when the caller has it already (it costs a serialisation).
    """
    total = len(inner_text(element) if text is None else text)
    if not total:
        return 1.0
    linked = sum(len(text) for text in _LINK_TEXT(element))
    return min(1.0, linked / total)


def _prune(root: HtmlElement) -> None:
    """Drop the chrome: scripts and the like, then the elements whose class or id says they are
    not the story. Every verdict is reached on the unpruned tree, so none depends on another; the
    classed elements inside a block already doomed go with it and get none (a page's menus,
    footers and comment boxes hold most of its classed elements, and a soft-negative one costs a
    serialisation of its text). They follow the block in document order, and a short walk up
    from each tells them apart: an XPath per block to find them cost more than it saved."""
    etree.strip_elements(root, *_DROP_TAGS, etree.Comment, with_tail=False)
    doomed = []
    classed = _CLASSED(root)
    position = 0
    while position < len(classed):  # a few hundred elements a page: kept lean
        element = classed[position]
        position += 1
        if _is_chrome(element):
            doomed.append(element)
            while position < len(classed) and _inside(classed[position], element):
                position += 1
    doomed += [element for element in _ID_ONLY(root) if _is_chrome(element)]
    for element in doomed:
        if element.getparent() is not None:
            element.drop_tree()


def _inside(element: HtmlElement, block: HtmlElement) -> bool:
    parent = element.getparent()
    while parent is not None:
        if parent is block:
            return True
        parent = parent.getparent()
    return False


def _is_chrome(element: HtmlElement) -> bool:
    """Whether an element's class and id mark it as chrome: hard-negative words always; soft ones
    unless a positive word is there too or it holds enough text that is not links; and hidden ones."""
    get = element.get
    hint = f"{get('class', '')} {get('id', '')}"
    if hint == " ":
        return False
    hard, soft, positive = _judge(hint)
    if hard:
        return True
    if soft and not positive:
        text = inner_text(element)
        return len(text.strip()) < _SOFT_KEEP_CHARS or link_density(element, text) > _SOFT_KEEP_LINK_DENSITY
    return bool((style := get("style")) and "display:none" in style.replace(" ", ""))


def _is_paragraph(element: HtmlElement) -> bool:
    if element.tag != "div":
        return True
    return not any(isinstance(child.tag, str) and child.tag in _BLOCK_TAGS for child in element)


def _score(root: HtmlElement) -> dict[HtmlElement, float]:
    scores: dict[HtmlElement, float] = {}
    for element in root.iter(*_PARAGRAPH_TAGS):
        if not _is_paragraph(element):
            continue
        text = inner_text(element).strip()
        if len(text) < _MIN_PARAGRAPH_CHARS:
            continue
        points = 1 + text.count(",") + min(len(text) // 100, 3)
        ancestor = element.getparent()
        for divider in (1.0, 2.0, 3.0):
            if ancestor is None or ancestor.tag in ("html", "body"):
                break
            if ancestor not in scores:
                _, soft, positive = _judge(f"{ancestor.get('class', '')} {ancestor.get('id', '')}")
                scores[ancestor] = _CLASS_WEIGHT * (positive - soft) + (
                    5.0 if ancestor.tag in ("article", "div", "section", "main") else 0.0
                )
            scores[ancestor] += points / divider
            ancestor = ancestor.getparent()
    return scores


def _best(scores: dict[HtmlElement, float]) -> tuple[HtmlElement, float] | None:
    """The container with the highest score discounted by its link density, among the top eight
    (the first of equals), or None when none is positive.

    A discounted score is at most the score, so the candidates after one whose score is no
    more than the best discounted score so far cannot win: the link densities of big
    containers, a serialisation each, are mostly not needed.
    """
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[:8]
    best: tuple[HtmlElement, float] | None = None
    for element, score in ranked:
        if best is not None and score <= best[1]:
            break
        adjusted = score * (1 - link_density(element))
        if adjusted > 0 and (best is None or adjusted > best[1]):
            best = (element, adjusted)
    return best


def _widen(best: HtmlElement) -> HtmlElement:
    """Climb out of wrappers that add (almost) no text, so the lead beside the wrapper is a sibling."""
    length = text_length(best)
    parent = best.getparent()
    while parent is not None and parent.tag not in ("body", "html") and text_length(parent) <= length * 1.05:
        best, parent = parent, parent.getparent()
    return best


def _with_siblings(best: HtmlElement, best_score: float, scores: dict[HtmlElement, float]) -> HtmlElement:
    """The best block plus neighbouring blocks that read like more of the article (leads, split bodies)."""
    best = _widen(best)
    parent = best.getparent()
    if parent is None:
        return best
    threshold = max(10.0, best_score * 0.2)
    keep = []
    for sibling in parent:
        if not isinstance(sibling.tag, str):
            continue
        if sibling is best:
            keep.append(sibling)
            continue
        if sibling.tag == "h1":
            continue
        text = inner_text(sibling)
        length = len(text.strip())
        if length < _MIN_PARAGRAPH_CHARS:
            continue
        density = link_density(sibling, text)
        if scores.get(sibling, 0.0) * (1 - density) >= threshold or (
            sibling.tag in ("p", "h2", "div") and _is_paragraph(sibling) and length >= 80 and density < 0.25
        ):
            keep.append(sibling)
    if len(keep) == 1:
        return best
    container = lxml.html.Element("div")
    for element in keep:
        element.tail = None
        container.append(element)
    return container


def _tidy(body: HtmlElement, title: str | None) -> None:
    """Drop what the scorer had to include with the body: the title, link lists inside it."""
    title_text = " ".join((title or "").split()).casefold()
    for element in list(body.iter("h1", "h2", "ul", "ol", "table", "div", "section", "p")):
        if element is body or element.getparent() is None:
            continue
        if element.tag == "h1":
            element.drop_tree()
            continue
        text = inner_text(element)
        if (
            title_text
            and len(text) < 2 * len(title_text)
            and " ".join(text.split()).casefold() == title_text
            or (
                element.tag not in ("p", "h2")
                and len(text) < _LINK_LIST_MAX_CHARS
                and element.find(".//a") is not None
                and link_density(element, text) > 0.5
            )
        ):
            element.drop_tree()


class Body(NamedTuple):
    """What :func:`extract_body` found: the fragment, and a floor under ``len(body_text(html))``.

    The floor counts the non-blank characters of the element's text outside captions, all of
    which the fragment's ``body_text`` keeps (it only folds whitespace and drops captions), so a
    floor of MIN_BODY_CHARS or more settles the length check without parsing the fragment again.
    """

    html: str
    text_floor: int


def extract_body(root: HtmlElement, title: str | None = None) -> Body | None:
    """The main-content HTML fragment of a parsed page, or None. Mutates ``root`` (prunes it).

    ``title`` (already extracted) is removed where the layout repeats it inside the body.
    """
    body = root.find("body")
    if body is None:
        return None
    _prune(body)
    scores = _score(body)
    found = _best(scores)
    if found is None:
        return None
    element = _with_siblings(*found, scores)
    _tidy(element, title)
    text = inner_text(element)
    if not text.strip():
        return None
    floor = len("".join(text.split()))
    for caption in element.iter("figcaption", "script", "style"):  # nested ones only make the floor lower
        floor -= len("".join(inner_text(caption).split()))
    return Body(lxml.html.tostring(element, encoding="unicode"), floor)


@lru_cache(maxsize=16)
def body_text(fragment: str) -> str:
    """Plain text of a body fragment, one line per block, captions left out.

    Enough for length checks, language guessing and tests; the clean stage owns the
    real boilerplate removal.
    """
    if not fragment or fragment.isspace():
        return ""
    root = lxml.html.fragment_fromstring(fragment, create_parent="div", parser=HTML_PARSER)
    etree.strip_elements(root, "figcaption", "script", "style", with_tail=False)
    for element in root.iter(*_BLOCK_TAGS, "br"):  # the tag filter runs in C
        element.tail = "\n" + (element.tail or "")
        if element.tag != "br":
            element.text = "\n" + (element.text or "")
    # each line's whitespace folded, empty lines dropped, with map/filter looping in C
    return "\n".join(filter(None, map(" ".join, map(str.split, inner_text(root).split("\n")))))
