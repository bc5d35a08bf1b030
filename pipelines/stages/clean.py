"""Clean stage: body HTML (or a seed's plain text) -> ``raw_text`` and ``text``.

``raw_text`` is the normalised text of the body before line-level boilerplate removal (kept
so that a cleaning mistake can be seen and undone); ``text`` is the story only. Bad input
never crashes the crawl: it is dropped with a category that the run summary counts.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler

from qpan import defaults
from qpan.pipelines.cleaning import BoilerplateRules, BrokenHtml, clean_normalized, html_to_text, load_rules
from qpan.pipelines.drops import Dropped
from qpan.pipelines.normalize import normalize_text
from qpan.stats import Stats, stat_key

DEFAULT_MIN_TEXT_CHARS = 40  # less than a sentence or two is not an article
HTML_PER_TEXT_CHAR = 10  # body HTML beyond max_text_chars x this is cut before parsing


class CleanStage:
    """Sets ``raw_text``, ``text`` and ``truncated``; drops empty, boilerplate-only and broken bodies."""

    def __init__(
        self,
        max_text_chars: int = defaults.QPAN_MAX_TEXT_CHARS,
        stats: Stats | None = None,
        min_text_chars: int = DEFAULT_MIN_TEXT_CHARS,
        rules: BoilerplateRules | None = None,
    ) -> None:
        self.max_text_chars = max_text_chars
        self.min_text_chars = min_text_chars
        self.stats = stats
        self.rules = rules or load_rules()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CleanStage:
        max_chars = crawler.settings.getint("QPAN_MAX_TEXT_CHARS", defaults.QPAN_MAX_TEXT_CHARS)
        return cls(max_text_chars=max_chars, stats=crawler.stats)

    def process_item(self, item: Any, spider: object = None) -> Any:
        try:
            raw, truncated = self._raw_text(item)
            text = clean_normalized(raw, author=item.get("author"), rules=self.rules)
            if len(text) < self.min_text_chars:
                raise Dropped(
                    "boilerplate_only",
                    f"{len(raw)} characters of text, {len(text)} left after removing boilerplate",
                )
        except Dropped as drop:
            if self.stats is not None:
                self.stats.inc_value(stat_key(item.get("source"), f"dropped/{drop.category}"))
            raise
        if len(text) > self.max_text_chars:
            text, truncated = cut_text(text, self.max_text_chars), True
        item["raw_text"] = cut_text(raw, self.max_text_chars) if len(raw) > self.max_text_chars else raw
        item["text"] = text
        item["truncated"] = truncated
        return item

    def _raw_text(self, item: Any) -> tuple[str, bool]:
        """Normalised text before boilerplate removal, and whether the input was cut."""
        body = item.get("body_html")
        if isinstance(body, bytes):
            body = body.decode("utf-8", errors="replace")
        if body is not None and not isinstance(body, str):
            raise Dropped("broken_html", f"body_html is a {type(body).__name__}, not text")
        if body and body.strip():
            limit = self.max_text_chars * HTML_PER_TEXT_CHAR
            truncated = len(body) > limit
            try:
                raw = html_to_text(body[:limit] if truncated else body, self.rules)
            except BrokenHtml as exc:
                raise Dropped("broken_html", str(exc)) from None
            if not raw:
                raise Dropped("empty", "body HTML has no text")
            return raw, truncated
        plain = item.get("raw_text")
        if isinstance(plain, str) and plain.strip():
            return normalize_text(plain), False
        raise Dropped("empty", "no body_html and no raw_text")


def cut_text(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a paragraph (or else word) boundary."""
    head = text[:limit]
    for separator in ("\n\n", "\n", " "):
        cut = head.rfind(separator)
        if cut >= limit // 2:
            return head[:cut].rstrip()
    return head
