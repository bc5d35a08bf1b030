"""Saved-page cases for the extraction tests, the regen helper and the benchmark.

A case is an HTML file plus a JSON file beside it (Fundus style):
``{"input": {"url", "declared_encoding", "reference"}, "gold_text": ..., "expected": {...}}``.
``input`` says how the page was fetched; ``gold_text`` is the article text written by
hand (paragraphs of the story, no captions, bylines or chrome) and is never regenerated;
``expected`` is what extraction produced when a human last checked it, rewritten by
``python -m tests.regen_pages`` when a change is intended.

Real pages in ``../shared/realpages/`` (when present) are used in place, never copied;
their JSON lives in ``tests/pages/realpages/<relative path>.json``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from qpan.crawler.extraction import extract_article
from qpan.crawler.extraction.generic import body_text
from qpan.items import ArticleItem
from qpan.timezone import VIETNAM

PAGES = Path(__file__).resolve().parent.parent / "pages"
REALPAGES = Path(__file__).resolve().parents[3] / "shared" / "realpages"
_CANONICAL = re.compile(rb"""<link[^>]+rel=["']?canonical["']?[^>]*href=["']([^"']+)""", re.I)
_OG_URL = re.compile(rb"""<meta[^>]+property=["']og:url["'][^>]*content=["']([^"']+)""", re.I)


@dataclass(frozen=True)
class PageCase:
    """One saved page: where its HTML is, where its JSON is (may not exist yet)."""

    id: str
    html_path: Path
    json_path: Path

    def spec(self) -> dict[str, Any]:
        if self.json_path.exists():
            return json.loads(self.json_path.read_text(encoding="utf-8"))
        return {"input": {"url": _guess_url(self.html_path)}}

    @property
    def body(self) -> bytes:
        return self.html_path.read_bytes()


def _guess_url(html_path: Path) -> str:
    """A real page saved without a sidecar: its own canonical / og:url, else a URL from its folder name."""
    sidecar = html_path.with_suffix(".url")
    if sidecar.exists():
        return sidecar.read_text(encoding="utf-8").strip()
    head = html_path.read_bytes()[:200_000]
    for pattern in (_CANONICAL, _OG_URL):
        found = pattern.search(head)
        if found and found.group(1).startswith(b"http"):
            return found.group(1).decode("utf-8", "replace")
    return f"https://{html_path.parent.name}/{html_path.stem}.html"


def page_cases() -> list[PageCase]:
    """Every saved page in the repo, then every real page in ../shared/realpages."""
    cases = [
        PageCase(f"{p.parent.name}/{p.stem}", p, p.with_suffix(".json"))
        for p in sorted(PAGES.glob("*/*.html"))
        if p.parent.name != "realpages"
    ]
    if REALPAGES.is_dir():
        for path in sorted(REALPAGES.rglob("*.htm*")):
            relative = path.relative_to(REALPAGES)
            expected = (PAGES / "realpages" / relative).with_suffix(".json")
            cases.append(PageCase(f"realpages/{relative.as_posix()}", path, expected))
    return cases


def cleaned_text(item: ArticleItem) -> str:
    """The article text as the pipeline stores it: the clean stage's functions when available."""
    try:
        from qpan.pipelines.cleaning import clean_text, html_to_text
    except ImportError:
        return body_text(item.get("body_html") or "")
    return clean_text(html_to_text(item.get("body_html") or ""), author=item.get("author"))


def extract_case(case: PageCase) -> ArticleItem:
    given = case.spec()["input"]
    reference = given.get("reference")
    return extract_article(
        case.body,
        given["url"],
        source=case.id.split("/")[0],
        declared_encoding=given.get("declared_encoding"),
        reference=datetime.fromisoformat(reference).replace(tzinfo=VIETNAM) if reference else None,
    )


def observed(item: ArticleItem) -> dict[str, Any]:
    """The comparable, JSON-ready view of an extracted item (fetched_at is the clock; left out)."""
    published = item.get("published")
    return {
        "canonical_url": item.get("canonical_url"),
        "title": item.get("title"),
        "published": published.isoformat() if published else None,
        "author": item.get("author"),
        "section": item.get("section"),
        "language": item.get("language"),
        "methods": item.get("methods"),
        "text": cleaned_text(item),
    }


def tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def token_f1(found: str, gold: str) -> float:
    """Bag-of-words F1 of an extracted text against the hand-written article text."""
    found_counts, gold_counts = Counter(tokens(found)), Counter(tokens(gold))
    overlap = sum((found_counts & gold_counts).values())
    if not overlap:
        return 0.0
    precision = overlap / sum(found_counts.values())
    recall = overlap / sum(gold_counts.values())
    return 2 * precision * recall / (precision + recall)
