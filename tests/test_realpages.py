"""Real pages of Vietnamese news sites (``../shared/realpages``), each held to what it really says.

Every file in the folder is found and tested, none is named here: an article page against the
fields in the JSON beside it, a listing page (an HTML page without JSON) by the links the spider
would follow from it, the captured feed by its dates. Articles go through what a crawl runs on
them: ``extract_article`` with the registry's selectors for the site, then the clean and
relevance stages (``Chain``). The folder is not part of the repository; without it the tests
skip with the reason, and under ``CI=true`` they fail instead.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from scrapy.http import HtmlResponse

from qpan.config import SourceConfig, config_from_dict
from qpan.crawler.extraction import extract_article
from qpan.crawler.harvest.feeds import feed_entries
from qpan.crawler.harvest.links import article_links
from qpan.crawler.registry import host_allowed, shipped_registry, source_domains
from qpan.pipelines.chain import Chain
from qpan.pipelines.normalize import normalize_text
from qpan.timezone import VIETNAM
from support.pages import REALPAGES

ARTICLES = sorted(REALPAGES.glob("*/*.json")) if REALPAGES.is_dir() else []
LISTINGS = (
    sorted(p for p in REALPAGES.glob("*/*.htm*") if not p.with_suffix(".json").exists())
    if REALPAGES.is_dir()
    else []
)
FEEDS = sorted((REALPAGES / "feeds").glob("*.xml")) if REALPAGES.is_dir() else []
_ABSENT = [pytest.param(None, id="realpages-absent")]

# What an article link looks like, for checking the harvested links independently of the
# registry's patterns: the last path segment is a slug of three or more words ending in an id
# of 6+ digits (one prefix letter allowed, as baodautu's "-d538952"), with or without an
# extension. A category ("/kinh-doanh.htm"), a tag ("-tag1464285….html") or a home page is not.
ARTICLE_SHAPE = re.compile(r"^[a-z0-9]+(?:-+[a-z0-9]+){2,}-[a-z]?\d{6,}(?:\.[a-z]{2,4})?$")
MIN_LISTING_LINKS = 10
MIN_LISTING_RECALL = 0.8  # share of the page's article-shaped links the harvest finds
BODY_MIN_CHARS = 200


def require_realpages() -> None:
    reason = f"the real pages folder {REALPAGES} is absent"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}, and CI=true requires it", pytrace=False)
    pytest.skip(reason)


def site_source(url: str) -> SourceConfig | None:
    """The shipped registry's source for a URL's host, if it has one."""
    return next((s for s in shipped_registry().sources if host_allowed(url, source_domains(s))), None)


def folded(text: str | None) -> str:
    """The project's normalisation (NFC, one tone placement), then whitespace folded."""
    return " ".join(normalize_text(text or "").split())


def label(text: str | None) -> str | None:
    """A title or author as a reader compares them: NFC, whitespace folded, nothing else (an
    entity left in a title is a defect, so the text normalisation that decodes them is not used)."""
    return " ".join(unicodedata.normalize("NFC", text).split()) if text is not None else None


def expected_instant(value: str) -> datetime:
    """The JSON's ISO date ("…T08:52:11.000 +07:00" allowed); no offset means Vietnam time."""
    parsed = datetime.fromisoformat(re.sub(r"\s+(?=[+-]\d{2}:?\d{2}$)", "", value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VIETNAM)


def crawled(path: Path, url: str) -> dict[str, Any]:
    source = site_source(url)
    item = extract_article(
        path.read_bytes(),
        url,
        source=source.name if source else urlsplit(url).hostname or "",
        selectors=source.selectors if source else None,
    )
    return dict(Chain(config_from_dict({})).process(item))


@pytest.mark.parametrize("spec_path", ARTICLES or _ABSENT, ids=lambda p: p and f"{p.parent.name}/{p.stem}")
def test_article_page_gives_its_title_date_author_and_text(spec_path: Path | None) -> None:
    """Title and author must be the JSON's, up to NFC and whitespace; the body is compared after the
    project's text normalisation (``normalize_text``: NFC, one tone placement) with whitespace folded.

    The body is the stored text (extraction, then the clean stage). Its first ~80 characters
    must be how the cleaned text starts and its last ~80 how it ends, exactly (the JSON's snippets
    may begin or end inside a word; they are stripped of outer whitespace only). So a lost lead,
    a leftover byline or a newsletter box after the story fails. The publication date must be
    the same instant, to the second; a date without an offset is Vietnam time.
    """
    if spec_path is None:
        require_realpages()
        return
    expected = json.loads(spec_path.read_text(encoding="utf-8"))
    got = crawled(spec_path.with_suffix(".html"), expected["url"])

    assert label(got.get("title")) == label(expected["title"])
    assert got.get("published") == expected_instant(expected["published"])
    assert label(got.get("author")) == label(expected["author"])
    text = folded(got["text"])
    assert len(text) >= BODY_MIN_CHARS
    assert text.startswith(folded(expected["first"])), text[:200]
    assert text.endswith(folded(expected["last"])), text[-200:]
    assert got["relevant"] is expected["relevant"]


@pytest.mark.parametrize("listing", LISTINGS or _ABSENT, ids=lambda p: p and f"{p.parent.name}/{p.stem}")
def test_listing_page_yields_the_sites_article_links_and_nothing_else(listing: Path | None) -> None:
    """The links the spider follows from a listing (the registry's ``article_pattern`` for the
    site, else the generic one) are article links of that site, most of the page's, and no
    category, tag or home link; the site's saved article is among them when the page links it."""
    if listing is None:
        require_realpages()
        return
    site = listing.parent.name
    page_url = f"https://{site}/"
    source = site_source(page_url)
    response = HtmlResponse(url=page_url, body=listing.read_bytes(), encoding="utf-8")
    domains = source_domains(source) if source else [site]

    found = article_links(response, source.article_pattern if source else None, domains)

    assert len(found) >= MIN_LISTING_LINKS
    for url in found:
        assert host_allowed(url, [site]), url
        assert ARTICLE_SHAPE.search(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]), url
    anchors = {response.urljoin(href).split("#", 1)[0] for href in response.css("a::attr(href)").getall()}
    shaped = {
        url
        for url in anchors
        if host_allowed(url, [site]) and ARTICLE_SHAPE.search(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
    }
    assert len(set(found) & shaped) >= MIN_LISTING_RECALL * len(shaped)
    saved = [json.loads(p.read_text(encoding="utf-8"))["url"] for p in listing.parent.glob("*.json")]
    for url in saved:
        if url in anchors:
            assert url in found


@pytest.mark.parametrize("feed", FEEDS or _ABSENT, ids=lambda p: p and p.stem)
def test_feed_dates_are_read_month_or_day_first_as_the_feed_shows(feed: Path | None) -> None:
    """The baochinhphu feed writes "9/5/2026 1:30:00 PM"; its "8/28/2026 …" entries show the month
    comes first, so that is 5 September 2026, 13:30 in Vietnam (the feed names no zone). Every
    entry is dated, and the feed lists them newest first, as a right reading must give."""
    if feed is None:
        require_realpages()
        return
    entries = feed_entries(feed.read_bytes(), "https://baochinhphu.vn/kinh-te.rss")
    assert len(entries) >= 20
    assert all(entry.published is not None for entry in entries)
    first = entries[0]
    assert first.url.endswith("-102260905122709839.htm")
    assert first.published == datetime(2026, 9, 5, 13, 30, tzinfo=VIETNAM)
    assert first.published.utcoffset() == VIETNAM.utcoffset(first.published)
    dates = [entry.published for entry in entries]
    assert dates == sorted(dates, reverse=True)
    assert min(dates) >= datetime(2026, 8, 1, tzinfo=VIETNAM)
