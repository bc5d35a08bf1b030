"""Sources shaped like the real ones work end to end: a cookie-primed feed (qdnd.vn), an article
id in the query string (mod.gov.vn), article URLs with a trailing slash (baothainguyen.vn) and an
old article link that sends the reader on with a ``<meta http-equiv="refresh">`` page.

One ``qpan crawl`` (a subprocess: Scrapy's reactor cannot restart) of three scripted sites,
then a second crawl that must fetch none of the stored articles again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import write_config
from sqlalchemy import select

from qpan.storage.db import Database
from qpan.storage.models import SEED_SOURCE, Article
from qpan.timezone import VIETNAM
from support.cli import qpan_process
from support.scriptedweb import (
    RSS,
    ScriptedWeb,
    article_page,
    listing_page,
    long_paragraphs,
    rss_feed,
    scripted_web,
)

pytestmark = pytest.mark.slow

COOKIE = "ASP.NET_SessionId=k3x9"
PORTAL_IDS = ["wcm:path:/mod/sa-mod-site/sa-ttsk/giao-ban-quy-3", "wcm:path:/mod/sa-mod-site/sa-ttsk/dien-tap-pctt"]
MOVED = "/tin-cu/hoi-nghi-phoi-hop-55120.html"
MOVED_TO = "/thoi-su/hoi-nghi-phoi-hop-55120.html"
# the tag in capitals, as older CMSs write it
MOVED_PAGE = (
    '<!doctype html><html><head><meta charset="utf-8"><title>Chuyển trang</title>'
    '<META HTTP-EQUIV="Refresh" CONTENT="0; URL={base}' + MOVED_TO + '"></head><body></body></html>'
)
SLASHED = ["/thoi-su/202611/cong-an-va-quan-su-giao-ban-48211/", "/thoi-su/202611/dien-tap-phong-thu-48212/"]


def _articles(web: ScriptedWeb, when: datetime) -> None:
    army = web["army"]
    army.route("/rss", "", status=302, headers={"Location": "{base}/rss", "Set-Cookie": f"{COOKIE}; Path=/"})
    feed = [(f"{army.base}/quoc-phong-an-ninh/bai-{n}-70014{n}", f"Tin quân đội {n}", when) for n in (1, 2)]
    army.route("/rss/cate/tin-tuc-moi-nhat.rss", rss_feed(feed), content_type=RSS, cookie=COOKIE)
    for n, (url, title, _) in enumerate(feed, 1):
        army.route(url.removeprefix(army.base), article_page(title, when, long_paragraphs(f"huấn luyện {n}")))
    army.source = {
        "home": f"{army.base}/", "prime": [f"{army.base}/rss"],
        "feeds": [f"{army.base}/rss/cate/tin-tuc-moi-nhat.rss"], "article_pattern": "/[a-z0-9-]+-\\d{5,}$",
    }

    portal = web["portal"]
    links = [f"{portal.base}/home/detail?current=true&urile={urile}" for urile in PORTAL_IDS]
    portal.route("/home/news", listing_page(links))
    for n, url in enumerate(links, 1):
        # the portal's canonical link is the same for every article: it must not merge them
        page = article_page(f"Tin cổng {n}", when, long_paragraphs(f"cổng {n}"), canonical="/home/detail")
        portal.route(url.removeprefix(portal.base), page)
    portal.source = {
        "home": f"{portal.base}/", "listings": [f"{portal.base}/home/news"], "keep_query": ["urile"],
        "article_pattern": "/home/detail",
    }

    province = web["province"]
    province.route("/thoi-su/", listing_page([province.base + path for path in SLASHED]))
    for n, path in enumerate(SLASHED, 1):
        province.route(path, article_page(f"Tin tỉnh {n}", when, long_paragraphs(f"tỉnh {n}"), canonical=path))
    province.source = {
        "home": f"{province.base}/", "listings": [f"{province.base}/thoi-su/"],
        "article_pattern": "^/[^/]+/\\d{6}/[^/]+/$",
    }

    moved = web["moved"]
    moved.route("/tin-cu/", listing_page([moved.base + MOVED]))
    moved.route(MOVED, MOVED_PAGE)
    moved.route(MOVED_TO, article_page("Tin đã chuyển", when, long_paragraphs("chuyển trang")))
    moved.source = {
        "home": f"{moved.base}/", "listings": [f"{moved.base}/tin-cu/"], "article_pattern": "-\\d{5}\\.html$",
    }


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ScriptedWeb, Path]]:
    folder = tmp_path_factory.mktemp("realshapes")
    with scripted_web("army", "portal", "province", "moved") as web:
        _articles(web, datetime.now(VIETNAM) - timedelta(days=1))
        config = write_config(folder, web)
        for args in (["init"], ["crawl"]):
            result = qpan_process(config, *args)
            assert result.returncode == 0, result.stderr
        yield web, config


def stored(config: Path) -> dict[str, list[Article]]:
    database = Database(f"sqlite:///{config.parent / 'qpan.db'}")
    with database.session() as session:
        rows = list(session.scalars(select(Article).where(Article.source != SEED_SOURCE)))
    database.dispose()
    found: dict[str, list[Article]] = {}
    for row in rows:
        found.setdefault(row.source, []).append(row)
    return found


def test_a_feed_behind_a_primed_cookie_is_read(crawled: tuple[ScriptedWeb, Path]) -> None:
    web, config = crawled
    army = web["army"]
    assert sorted(a.title for a in stored(config)["army"]) == ["Tin quân đội 1", "Tin quân đội 2"]
    assert len(army.requested("/rss")) == 1, "the priming URL redirects to itself: fetched once, not followed"
    assert [hit.status for hit in army.requested("/rss/cate/tin-tuc-moi-nhat.rss")] == [200]


def test_article_ids_in_the_query_string_stay_apart(crawled: tuple[ScriptedWeb, Path]) -> None:
    _, config = crawled
    canonical = sorted(a.canonical_url for a in stored(config)["portal"])
    assert [url.split("?", 1)[1] for url in canonical] == [
        "urile=wcm%3Apath%3A%2Fmod%2Fsa-mod-site%2Fsa-ttsk%2Fdien-tap-pctt",
        "urile=wcm%3Apath%3A%2Fmod%2Fsa-mod-site%2Fsa-ttsk%2Fgiao-ban-quy-3",
    ]


def test_trailing_slash_article_urls_are_followed_as_linked(crawled: tuple[ScriptedWeb, Path]) -> None:
    web, config = crawled
    assert sorted(a.title for a in stored(config)["province"]) == ["Tin tỉnh 1", "Tin tỉnh 2"]
    assert all(web["province"].requested(path) for path in SLASHED)
    assert not any(hit.status == 404 for hit in web["province"].hits if hit.target != "/robots.txt")


def test_a_meta_refresh_page_leads_to_the_article(crawled: tuple[ScriptedWeb, Path]) -> None:
    web, config = crawled
    [article] = stored(config)["moved"]
    assert (article.title, article.url) == ("Tin đã chuyển", web["moved"].base + MOVED_TO)
    assert [hit.status for hit in web["moved"].requested(MOVED)] == [200]


def test_a_second_crawl_fetches_no_stored_article_again(crawled: tuple[ScriptedWeb, Path]) -> None:
    web, config = crawled
    before = {name: len(site.hits) for name, site in web.sites.items()}
    result = qpan_process(config, "crawl")
    assert result.returncode == 0, result.stderr
    article_hits = [
        hit.target
        for name, site in web.sites.items()
        for hit in site.hits[before[name]:]
        if "detail" in hit.target or "bai-" in hit.target or "/202611/" in hit.target or "-55120" in hit.target
    ]
    assert article_hits == []


def test_qpan_extract_keeps_the_query_id_of_such_a_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``qpan extract`` stores nothing but shows the canonical URL a crawl would store."""
    import json

    from support.cli import run_qpan

    config = tmp_path / "qpan.toml"
    config.write_text(
        '[crawl]\nshipped_sources = false\n[[sources]]\nname = "portal"\ndomains = ["mod.example"]\n'
        'keep_query = ["urile"]\n',
        encoding="utf-8",
    )
    page = tmp_path / "page.html"
    when = datetime.now(VIETNAM)
    page.write_text(article_page("Tin cổng", when, long_paragraphs("cổng"), canonical="/home/detail"), encoding="utf-8")
    url = f"https://mod.example/home/detail?current=true&urile={PORTAL_IDS[0]}"
    result = run_qpan(capsys, "--config", str(config), "extract", str(page), "--url", url)
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["canonical_url"] == (
        "https://mod.example/home/detail?urile=wcm%3Apath%3A%2Fmod%2Fsa-mod-site%2Fsa-ttsk%2Fgiao-ban-quy-3"
    )
