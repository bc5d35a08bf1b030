"""From an article's body HTML or plain text to the clean text of the story.

Two steps, both driven by the markers in ``boilerplate.toml``:
``html_to_text`` removes what the markup identifies (scripts, share bars, related boxes,
marked-up captions and bylines) and keeps paragraphs; ``clean_text`` then removes lines
that are site chrome or photo captions in any text, including the seed files that have
no markup left. Removing too much is worse than too little (a lost paragraph is lost for
relevance and dedup), so every line rule is anchored on the whole line.
"""

from __future__ import annotations

import re
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup, CData, NavigableString, PageElement, Tag
from bs4.builder import LXMLTreeBuilder, ParserRejectedMarkup
from lxml import etree

from qpan.pipelines.normalize import normalize_text

BOILERPLATE_FILE = Path(__file__).with_name("boilerplate.toml")

# block-level elements: their boundaries are paragraph breaks in the text
_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "section",
        "article",
        "header",
        "main",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "blockquote",
        "pre",
        "table",
        "tr",
        "td",
        "th",
        "figure",
        "hr",
        "address",
    ]
)
_PARAGRAPH_MARK = "\ue000"  # private-use characters survive get_text() and whitespace folding
_LINE_MARK = "\ue001"
_SENTENCE_INSIDE = re.compile(r"[.!?…]\s+\S")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\ufffd]")
_NAME_PARTS = re.compile(r"[\s/]+")
_BYLINE_PARTS = re.compile(r"[\s\-–/,]+")
_NOT_A_BYLINE = re.compile(r"[.!?:;\"“”]$|\d")
_TEXT_TYPES = (NavigableString, CData)  # what get_text() keeps: no comments, scripts, doctypes


class BrokenHtml(ValueError):
    """The body cannot be read as HTML (binary garbage, parser failure)."""


@dataclass(frozen=True)
class BoilerplateRules:
    """Compiled markers from ``boilerplate.toml``."""

    drop_tags: frozenset[str]
    drop_attributes: dict[str, frozenset[str]]
    drop_class: re.Pattern[str]
    related_heading: re.Pattern[str]
    link_density: float
    exact_lines: frozenset[str]
    line_pattern: re.Pattern[str]
    caption_credit: re.Pattern[str]
    caption_exact: frozenset[str]
    caption_max_chars: int
    caption_shape: re.Pattern[str]
    byline_max_words: int
    byline_note: re.Pattern[str]
    tail_opener: re.Pattern[str]
    tail_max_chars: int

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BoilerplateRules:
        html, lines, captions = data["html"], data["lines"], data["captions"]
        headings = "|".join(re.escape(_marker_key(h)) for h in html["related_headings"])
        credits = "|".join(re.escape(word) for word in captions["credit_words"])
        return cls(
            drop_tags=frozenset(html["drop_tags"]),
            drop_attributes={
                name: frozenset(value.casefold() for value in values)
                for name, values in html["drop_attributes"].items()
            },
            drop_class=re.compile(html["drop_class_pattern"]),
            related_heading=re.compile(rf"^\s*(?:{headings})\s*:?\s*$", re.IGNORECASE),
            link_density=float(html["link_density"]),
            exact_lines=frozenset(_marker_key(line) for line in lines["exact"]),
            line_pattern=_any_of(lines["patterns"]),
            caption_credit=re.compile(
                rf"(?:^|[.)]\s+|\(\s*|\s[-–]\s)\(?(?:{credits})(?:\s*:\s*(?P<any>[^:]{{1,80}})"
                rf"|\s+(?P<name>[^.:()]{{2,60}}?))\)?\.?$",
                re.IGNORECASE,
            ),
            caption_exact=frozenset(_marker_key(line) for line in captions["exact"]),
            caption_max_chars=int(captions["max_chars"]),
            caption_shape=_any_of(captions["shape_patterns"]),
            byline_max_words=int(data["byline"]["max_words"]),
            byline_note=re.compile(rf"\s*\([^()]{{1,{int(data['byline']['note_max_chars'])}}}\)$"),
            tail_opener=_any_of(data["tail"]["openers"]),
            tail_max_chars=int(data["tail"]["max_chars"]),
        )


def _any_of(patterns: list[str]) -> re.Pattern[str]:
    """One case-insensitive regex matching where any of ``patterns`` matches: every line of every
    article is tested against them, and one search costs a third of a search per pattern."""
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns), re.IGNORECASE)


def _line_key(line: str) -> str:
    """How a normalised line is compared with marker lists: case-folded, brackets and ':' trimmed."""
    return line.casefold().strip(" :()[]")


def _marker_key(marker: str) -> str:
    """Markers are written by hand in any tone placement; normalise them like the text."""
    return _line_key(normalize_text(marker))


@lru_cache(maxsize=8)
def load_rules(path: Path = BOILERPLATE_FILE) -> BoilerplateRules:
    with path.open("rb") as handle:
        return BoilerplateRules.from_dict(tomllib.load(handle))


# --- HTML ----------------------------------------------------------------------------------------


class _ReusingLxmlBuilder(LXMLTreeBuilder):
    """bs4's lxml tree builder that keeps its lxml parser from one soup to the next.

    Stock bs4 makes a new lxml parser per soup, and lxml inspects the builder's callback
    signatures every time: on an article-sized fragment that is about a fifth of the parse.
    The parser is dropped after a failed feed, so a broken page cannot leak into the next.
    One builder per thread (a parser is not thread-safe).

    Its ``start`` and ``end`` callbacks also skip the XML namespace bookkeeping the stock
    builder does for every element, another fifth: lxml's HTML parser reports no namespaces,
    so the soup built is the same.
    """

    def __init__(self) -> None:
        super().__init__()
        self._parser: etree.HTMLParser | None = None

    def default_parser(self, encoding: str | None) -> Any:
        if encoding is not None:
            return super().default_parser(encoding)
        if self._parser is None:
            self._parser = etree.HTMLParser(target=self, recover=True, huge_tree=self.huge_tree)
        return self._parser

    def start(self, tag: str | bytes, attrib: dict[str | bytes, str | bytes], nsmap: Any = None) -> None:
        assert self.soup is not None and isinstance(tag, str)
        self.soup.handle_starttag(
            tag, None, None, self.attribute_dict_class(attrib), namespaces=self.active_namespace_prefixes[-1]
        )

    def end(self, tag: str | bytes) -> None:
        assert self.soup is not None and isinstance(tag, str)
        self.soup.endData()
        self.soup.handle_endtag(tag, None)

    def feed(self, markup: Any) -> None:
        try:
            super().feed(markup)
        except BaseException:
            self._parser = None
            raise


_BUILDERS = threading.local()


def _soup(body_html: str) -> BeautifulSoup:
    builder = getattr(_BUILDERS, "builder", None)
    if builder is None:
        builder = _BUILDERS.builder = _ReusingLxmlBuilder()
    return BeautifulSoup(body_html, builder=builder)


def html_to_text(body_html: str, rules: BoilerplateRules | None = None) -> str:
    """Normalised text of an article body fragment, one paragraph per "\\n\\n"-separated block.

    One walk over the soup drops the chrome and collects the text at once; only when a
    "Tin liên quan" heading turned up (rare) are those boxes removed and the text walked again.
    Raises :class:`BrokenHtml` when the input is not readable as HTML.
    """
    rules = rules or load_rules()
    if len(_CONTROL.findall(body_html[:20000])) > max(20, len(body_html[:20000]) // 20):
        raise BrokenHtml("body is mostly control characters, not HTML text")
    try:
        soup = _soup(body_html)
        text, headings = _walk(soup, rules)
        if headings:
            _drop_related_boxes(headings, rules)
            text, _ = _walk(soup, None)
    except (ParserRejectedMarkup, RecursionError, AssertionError, ValueError, TypeError) as exc:
        raise BrokenHtml(f"HTML parser failed: {type(exc).__name__}") from None
    text = " ".join(text.split()).replace(_LINE_MARK, "\n").replace(_PARAGRAPH_MARK, "\n\n")
    return normalize_text(text)


def _walk(soup: BeautifulSoup, rules: BoilerplateRules | None) -> tuple[str, list[NavigableString]]:
    """The soup's text with paragraph and line marks, in document order.

    With ``rules``, what the markup marks as not-the-story is removed on the way (a removed
    element's subtree is never visited, so the text is that of the pruned tree) and the strings
    that look like a related-articles heading are returned for :func:`_drop_related_boxes`.
    Iterative, not recursive: nesting depth is the page's to choose.
    """
    pieces: list[str] = []
    headings: list[NavigableString] = []
    total = 0
    stack: list[tuple[Iterator[PageElement], str]] = [(iter(tuple(soup.contents)), "")]
    while stack:
        children, closing = stack[-1]
        for node in children:
            if not isinstance(node, Tag):
                if type(node) in _TEXT_TYPES:
                    pieces.append(node)
                if rules is not None and rules.related_heading.match(node):
                    headings.append(node)
                continue
            if rules is not None:
                if node.name in rules.drop_tags:
                    node.extract()
                    continue
                if node.attrs and _marked_as_chrome(node, rules):
                    total = total or len(soup.get_text())
                    if not _holds_the_story(node, total):
                        node.extract()
                        continue
            if node.name == "br":
                pieces.append(_LINE_MARK)
                continue
            mark = _PARAGRAPH_MARK if node.name in _BLOCK_TAGS else ""
            pieces.append(mark)
            stack.append((iter(tuple(node.contents)), mark))
            break
        else:
            stack.pop()
            pieces.append(closing)
    return "".join(pieces), headings


def _marked_as_chrome(tag: Tag, rules: BoilerplateRules) -> bool:
    classes = tag.get("class") or ()
    marks = " ".join(classes) if isinstance(classes, list) else str(classes)
    if rules.drop_class.search(f"{marks} {tag.get('id') or ''}"):
        return True
    for name, values in rules.drop_attributes.items():
        value = tag.get(name)
        if value and any(part.casefold() in values for part in (value if isinstance(value, list) else [value])):
            return True
    return False


def _holds_the_story(tag: Tag, total: int) -> bool:
    """A wrapper with a misleading class ("content has-share") must not take the story with it."""
    return len(tag.get_text()) > max(500, total // 2)


def _link_share(tag: Tag) -> float:
    text = len(tag.get_text(strip=True))
    links = sum(len(a.get_text(strip=True)) for a in tag.find_all("a"))
    return links / text if text else 1.0


def _drop_related_boxes(headings: list[NavigableString], rules: BoilerplateRules) -> None:
    """Drop "Tin liên quan" boxes: the heading with its link list, or its whole link-only container."""
    for string in headings:
        heading = string.parent
        if not isinstance(heading, Tag) or heading.decomposed:
            continue
        while heading.parent is not None and heading.parent.get_text(strip=True) == heading.get_text(strip=True):
            heading = heading.parent
        container = heading.parent
        if (
            isinstance(container, Tag)
            and container.name not in ("body", "html", "[document]")
            and _link_share(container) >= rules.link_density
        ):
            container.decompose()
            continue
        following = heading.find_next_sibling()
        if following is not None and (following.name in ("ul", "ol") or _link_share(following) >= rules.link_density):
            following.decompose()
        heading.decompose()


# --- plain text ---------------------------------------------------------------------------------


def clean_text(raw: str, author: str | None = None, rules: BoilerplateRules | None = None) -> str:
    """The story's paragraphs joined by "\\n\\n": chrome lines, captions and trailing bylines removed.

    ``author``, when the page named one, is also removed where a site repeated it as a line.
    """
    return clean_normalized(normalize_text(raw), author, rules)


def clean_normalized(text: str, author: str | None = None, rules: BoilerplateRules | None = None) -> str:
    """:func:`clean_text` for text that already went through ``normalize_text`` (saves a pass)."""
    rules = rules or load_rules()
    author_key = _marker_key(author) if author else None
    kept: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line or _is_chrome(line, rules) or _is_caption(line, rules):
            continue
        if author_key and _line_key(rules.byline_note.sub("", line)).removeprefix("theo ").strip() == author_key:
            continue
        kept.append(line)
    kept = _without_tail_box(kept, rules)
    while kept and _is_byline(kept[-1], rules):
        kept.pop()
    return "\n\n".join(kept)


def _without_tail_box(lines: list[str], rules: BoilerplateRules) -> list[str]:
    """``lines`` without a box the site appends after the story (a newsletter sign-up).

    The box starts at a line matching a ``[tail] openers`` pattern and runs to the end; it is
    only cut when little text follows the opener, so an opener-like sentence inside the
    story never takes the rest of the story with it.
    """
    remaining = 0
    for index in range(len(lines) - 1, -1, -1):
        remaining += len(lines[index])
        if remaining > rules.tail_max_chars:
            break
        if rules.tail_opener.search(lines[index]):
            return lines[:index]
    return lines


def _is_chrome(line: str, rules: BoilerplateRules) -> bool:
    if _line_key(line) in rules.exact_lines:
        return True
    return rules.line_pattern.search(line) is not None


def _is_caption(line: str, rules: BoilerplateRules) -> bool:
    if _line_key(line) in rules.caption_exact:
        return True
    if len(line) > rules.caption_max_chars * 2:
        return False
    credit = rules.caption_credit.search(line)
    if credit:
        name = credit.group("name")
        if name is None or all(word[:1].isupper() or word[:1].isdigit() for word in _NAME_PARTS.split(name)):
            return True
    if len(line) > rules.caption_max_chars or _SENTENCE_INSIDE.search(line):
        return False
    return rules.caption_shape.search(line) is not None


def _is_byline(line: str, rules: BoilerplateRules) -> bool:
    """A short run of capitalised words without sentence punctuation: "Phương Hà", "Hồng Thái - Văn Tú",
    "Hà Thu (tổng hợp)" (a short note in brackets may follow the name)."""
    line = rules.byline_note.sub("", line)
    words = [word for word in _BYLINE_PARTS.split(line) if word]
    if not words or len(words) > rules.byline_max_words or _NOT_A_BYLINE.search(line):
        return False
    return all(word[:1].isupper() for word in words)
