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
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, repeat
from pathlib import Path
from typing import Any

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


# The text is the one BeautifulSoup (lxml builder) gave when this module used it; lxml's tree is
# walked directly (html_to_text in half the time, a third less on the biggest bodies), and these
# are the soup's rules the walk reproduces: strings inside these elements are not text (bs4's
# Script, Stylesheet, TemplateString and Ruby strings) ...
_STRING_CONTAINERS = frozenset({"script", "style", "template", "rt", "rp"})
# ... and a string of ASCII whitespace only counts as one character, except inside these
_KEEPS_WHITESPACE = frozenset({"pre", "textarea"})
_ASCII_SPACES = " \n\t\x0c\r"
_SPECIAL_TAGS = _STRING_CONTAINERS | _KEEPS_WHITESPACE
# attributes bs4 splits into a list of words, on every element and by element (the rest stay one string)
_WORD_LISTS = frozenset({"class", "accesskey", "dropzone"})
_WORD_LISTS_BY_TAG = {
    "a": frozenset({"rel", "rev"}),
    "link": frozenset({"rel", "rev"}),
    "td": frozenset({"headers"}),
    "th": frozenset({"headers"}),
    "form": frozenset({"accept-charset"}),
    "object": frozenset({"archive"}),
    "area": frozenset({"rel"}),
    "icon": frozenset({"sizes"}),
    "iframe": frozenset({"sandbox"}),
    "output": frozenset({"for"}),
}
_WORDS = re.compile(r"\S+")
_HTML_END = re.compile("</html", re.IGNORECASE)
_START_TAG = re.compile("<[A-Za-z]")
_REMOVED = "Removed"  # the tag of a removed element: lxml's HTML parser lower-cases every tag it reads


def _document(body_html: str) -> etree._Element | None:
    """The parsed fragment under a holder element that stands for the document itself.

    It is parsed the way bs4 fed lxml (push parser, one feed), so the tree is the one the
    soup was built from. ``huge_tree``: lxml builds no tree below 255 nested elements (the
    soup, built from parser events, had no such limit), 2,048 with it; extraction's own
    parse stops at 255, so no body it produces comes near. The holder takes the comments
    beside ``<html>`` too, and lets the box removal climb to and drop "the document" as it
    could in the soup. None when the fragment holds no element (empty, blank, or comments
    only: no text either way).
    """
    markup = body_html[1:] if body_html.startswith("\ufeff") else body_html
    parser = etree.HTMLParser(huge_tree=True)
    parser.feed(markup)
    root = parser.close()
    if root is None:
        return None
    holder = etree.Element("document")
    holder.extend([*reversed(list(root.itersiblings(preceding=True))), root, *root.itersiblings()])
    if _HTML_END.search(markup) or "</" in markup[: _first_start_tag(markup)]:
        _put_outside_strings(holder, markup)
    return holder


def _first_start_tag(markup: str) -> int:
    """Where the first start tag begins (the length when there is none): before it, an end tag
    leaves the parser outside any element, and the blank after it is a string out there."""
    found = _START_TAG.search(markup)
    return found.start() if found else len(markup)


class _OutsideHtml:
    """lxml parser target listing what the parser reports outside any element, in order:
    None for an element or a comment, the string itself for a string.

    After an explicit ``</html>``, or an end tag before the first start tag, the blanks before
    the next tag, comment or the end are such strings; the soup kept them (each counts in the
    text length that decides whether a chrome-marked wrapper holds the story, and one between
    two ``<html>`` keeps their words apart), lxml's tree has no place for them.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.run: list[str] = []
        self.found: list[str | None] = []

    def _flush(self) -> None:
        if self.run:
            string = "".join(self.run)
            self.found.append(string if string.strip(_ASCII_SPACES) else "\n" if "\n" in string else " ")
            self.run = []

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self._flush()
        if self.depth == 0:
            self.found.append(None)
        self.depth += 1

    def end(self, tag: str) -> None:
        self._flush()
        self.depth -= 1

    def data(self, data: str) -> None:
        if self.depth == 0:
            self.run.append(data)

    def comment(self, text: str) -> None:
        self._flush()
        if self.depth == 0:
            self.found.append(None)

    def doctype(self, name: str, public_id: str, system_url: str) -> None:
        self._flush()

    def close(self) -> list[str | None]:
        self._flush()
        return self.found


def _put_outside_strings(holder: etree._Element, markup: str) -> None:
    """The strings outside any element (see :class:`_OutsideHtml`) as the text and tails of the
    holder's children, where the parser reported them; a second parse, only for the rare
    fragment that can have such strings."""
    parser = etree.HTMLParser(target=_OutsideHtml())
    parser.feed(markup)
    previous: etree._Element | None = None
    nodes = iter(holder)
    for found in parser.close():
        if found is None:
            previous = next(nodes, previous)
        elif previous is None:
            holder.text = found
        else:
            previous.tail = found


def html_to_text(body_html: str, rules: BoilerplateRules | None = None) -> str:
    """Normalised text of an article body fragment, one paragraph per "\\n\\n"-separated block.

    One walk over the tree drops the chrome and collects the text at once; only when a
    "Tin liên quan" heading turned up (rare) are those boxes removed and the text walked again.
    Raises :class:`BrokenHtml` when the input is not readable as HTML.
    """
    rules = rules or load_rules()
    if len(_CONTROL.findall(body_html[:20000])) > max(20, len(body_html[:20000]) // 20):
        raise BrokenHtml("body is mostly control characters, not HTML text")
    try:
        document = _document(body_html)
        if document is None:
            return ""
        text, headings = _walk(document, rules)
        if headings:
            _drop_related_boxes(document, headings, rules)
            text, _ = _walk(document, None)
    except (etree.ParserError, RecursionError, AssertionError, ValueError, TypeError) as exc:
        raise BrokenHtml(f"HTML parser failed: {type(exc).__name__}") from None
    text = " ".join(text.split()).replace(_LINE_MARK, "\n").replace(_PARAGRAPH_MARK, "\n\n")
    return normalize_text(text)


def _children(element: etree._Element) -> list[etree._Element | str]:
    """What the soup held under ``element``: its text, then each child followed by its tail."""
    found: list[etree._Element | str] = [element.text] if element.text else []
    for child in element:
        found.append(child)
        if child.tail:
            found.append(child.tail)
    return found


def _walk(document: etree._Element, rules: BoilerplateRules | None) -> tuple[str, list[etree._Element]]:
    """The document's text with paragraph and line marks, in document order.

    With ``rules``, what the markup marks as not-the-story is removed on the way (a removed
    element's subtree is never visited, so the text is that of the pruned tree) and the elements
    holding a string that looks like a related-articles heading are returned for
    :func:`_drop_related_boxes`. lxml's iterwalk does the walking, in C and without recursion
    (nesting depth is the page's to choose); an element's text comes with its start event, its
    tail, a string of its parent, after its end.
    """
    pieces: list[str] = []
    headings: list[etree._Element] = []
    heading = rules.related_heading.match if rules is not None else None
    total = 0
    # per open element: its closing mark, None for a removed element or a <br> (no mark) ...
    closings: list[str | None] = []
    # ... and whether strings directly in it are inside a string container (script, ruby...)
    contained = [False]
    if document.text:  # only ever a blank outside <html> (see _put_outside_strings)
        pieces.append(document.text)
    for event, node in etree.iterwalk(document, events=("start", "end", "comment", "pi")):
        if node is document:
            continue
        if event == "start":
            keep = True
            if rules is not None:
                if node.tag in rules.drop_tags:
                    keep = False
                elif node.attrib and _marked_as_chrome(node, rules):
                    total = total or _text_length(document)
                    keep = _holds_the_story(node, total)
            closing: str | None = None
            if not keep:
                _remove(node, document)
            elif node.tag == "br":
                pieces.append(_LINE_MARK)
            else:
                closing = _PARAGRAPH_MARK if node.tag in _BLOCK_TAGS else ""
                pieces.append(closing)
            closings.append(closing)
            inside = contained[-1] or node.tag in _STRING_CONTAINERS
            contained.append(inside)
            text = node.text if closing is not None else None
            if text:
                if not inside:
                    pieces.append(text)
                if heading is not None and heading(text):
                    headings.append(node)
            continue
        if event == "end":
            if closing := closings.pop():
                pieces.append(closing)
            contained.pop()
        elif heading is not None and node.text and heading(node.text):
            headings.append(node.getparent())  # a comment whose text reads like a heading
        tail = node.tail
        if tail:
            if not contained[-1]:
                pieces.append(tail)
            if heading is not None and heading(tail):
                headings.append(node.getparent())
    return "".join(pieces), headings


def _remove(element: etree._Element, document: etree._Element) -> None:
    """Take ``element``'s subtree out of the document, but not its tail.

    The element stays, empty and renamed ``_REMOVED``, so its tail stays a string of its own,
    as in the soup: merged into the text before it (``drop_tree``), it would count and strip
    differently (a blank tail counts as one character; "a " and " b" strip to "ab", "a  b"
    does not).
    """
    if element is document:
        document.clear()
        return
    element.clear(keep_tail=True)
    element.tag = _REMOVED


def _attached(element: etree._Element, document: etree._Element) -> bool:
    """Whether ``element`` is still in the document (not removed with a box, nor inside one)."""
    if element.tag == _REMOVED:
        return False
    return element is document or any(ancestor is document for ancestor in element.iterancestors())


def _attribute(element: etree._Element, name: str) -> list[str] | str | None:
    """``element.get(name)`` as the soup gave it: a list of words for class, rel on links and the like."""
    value = element.get(name)
    if value is not None and (name in _WORD_LISTS or name in _WORD_LISTS_BY_TAG.get(element.tag, ())):
        return _WORDS.findall(value)
    return value


def _marked_as_chrome(element: etree._Element, rules: BoilerplateRules) -> bool:
    classes = _attribute(element, "class") or ()
    if rules.drop_class.search(f"{' '.join(classes)} {element.get('id') or ''}"):
        return True
    for name, values in rules.drop_attributes.items():
        value = _attribute(element, name)
        if value and any(part.casefold() in values for part in (value if isinstance(value, list) else [value])):
            return True
    return False


def _strings(element: etree._Element) -> Iterator[str]:
    """The strings ``get_text()`` joined in the soup: those of ``element``'s own kind (plain text,
    or for a script, template or ruby element the strings of that kind), blank ones as one character."""
    own = element.tag if element.tag in _STRING_CONTAINERS else None
    ancestors = list(element.iterancestors())
    container = next((a.tag for a in ancestors if a.tag in _STRING_CONTAINERS), None)
    keeps = any(a.tag in _KEEPS_WHITESPACE for a in ancestors)
    # (element, innermost string container, inside pre/textarea) for the element's own strings
    stack: list[tuple[Iterator[etree._Element | str], str | None, bool]] = []
    kind = own or container
    keeping = keeps or element.tag in _KEEPS_WHITESPACE
    stack.append((iter(_children(element)), kind, keeping))
    while stack:
        children, kind, keeping = stack[-1]
        for node in children:
            if isinstance(node, str):
                if kind == own:
                    yield node if keeping or node.strip(_ASCII_SPACES) else ("\n" if "\n" in node else " ")
                continue
            if isinstance(node.tag, str):
                inner = node.tag if node.tag in _STRING_CONTAINERS else kind
                stack.append((iter(_children(node)), inner, keeping or node.tag in _KEEPS_WHITESPACE))
                break
        else:
            stack.pop()


def _plain_strings(element: etree._Element) -> list[str] | None:
    """``element``'s strings straight from lxml (``itertext``, in C) when all of them are plain text
    and none keeps its blanks: no script, style, template, ruby, pre or textarea element in it or
    around it, as in nearly every article body. None otherwise: :func:`_strings` then sorts them."""
    if next(element.iter(*_SPECIAL_TAGS), None) is not None:
        return None
    if any(ancestor.tag in _SPECIAL_TAGS for ancestor in element.iterancestors()):
        return None
    return list(filter(None, element.itertext()))


def _text_length(element: etree._Element) -> int:
    """``len(tag.get_text())`` in the soup: a blank string counts as one character."""
    strings = _plain_strings(element)
    if strings is None:
        return sum(map(len, _strings(element)))
    stripped = list(map(str.strip, strings, repeat(_ASCII_SPACES)))
    return sum(map(len, compress(strings, stripped))) + stripped.count("")


def _stripped_text(element: etree._Element) -> str:
    """``tag.get_text(strip=True)`` in the soup."""
    strings = _plain_strings(element)
    return "".join(map(str.strip, _strings(element) if strings is None else strings))


def _holds_the_story(element: etree._Element, total: int) -> bool:
    """A wrapper with a misleading class ("content has-share") must not take the story with it."""
    return _text_length(element) > max(500, total // 2)


def _link_share(element: etree._Element) -> float:
    text = len(_stripped_text(element))
    links = sum(len(_stripped_text(a)) for a in element.iterdescendants("a"))
    return links / text if text else 1.0


def _drop_related_boxes(document: etree._Element, headings: list[etree._Element], rules: BoilerplateRules) -> None:
    """Drop "Tin liên quan" boxes: the heading with its link list, or its whole link-only container.

    ``headings`` are the elements holding a heading string; one already dropped with an earlier
    heading's box is skipped.
    """
    for heading in headings:
        if not _attached(heading, document):
            continue
        while heading is not document and _stripped_text(heading.getparent()) == _stripped_text(heading):
            heading = heading.getparent()
        container = heading.getparent()
        if (
            container is not None
            and container is not document
            and container.tag not in ("body", "html")
            and _link_share(container) >= rules.link_density
        ):
            _remove(container, document)
            continue
        following = next((e for e in heading.itersiblings() if isinstance(e.tag, str) and e.tag != _REMOVED), None)
        if following is not None and (following.tag in ("ul", "ol") or _link_share(following) >= rules.link_density):
            _remove(following, document)
        _remove(heading, document)


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
        if not line:
            continue
        key = _line_key(line)
        if _is_chrome(line, key, rules) or _is_caption(line, key, rules):
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


def _is_chrome(line: str, key: str, rules: BoilerplateRules) -> bool:
    """Whether ``line`` (whose ``_line_key`` is ``key``) is site chrome."""
    if key in rules.exact_lines:
        return True
    return rules.line_pattern.search(line) is not None


def _is_caption(line: str, key: str, rules: BoilerplateRules) -> bool:
    """Whether ``line`` (whose ``_line_key`` is ``key``) is a photo caption or credit."""
    if key in rules.caption_exact:
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
