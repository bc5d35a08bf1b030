"""A source stopped by a limit says so: the reason is its error in ``qpan runs`` and ``qpan sources``.

One ``qpan crawl`` of the fixture web with ``max_page_bytes`` at 256 KiB and hostile answers:
a sitemap served with ``Content-Encoding: gzip`` that unpacks to 5 MB (a gzip bomb), a
``.xml.gz`` sitemap over the limit once unpacked, a feed URL answering with an HTML page, and
feeds opening with a DOCTYPE (a public one, and an internal subset of nested entities, ten
million characters if expanded) that must still be read, without expanding them.
"""

from __future__ import annotations

import gzip
import json
import shutil
import urllib.request
from pathlib import Path

import pytest
from conftest import write_config
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from test_crawler_e2e import stored_articles

from qpan.crawler import meta
from qpan.crawler.middlewares.accounting import SourceDepthLimit
from qpan.demo import LocalWeb
from support.cli import qpan_process, run_qpan

pytestmark = pytest.mark.slow

LIMIT = 256 * 1024
UNPACKED = "larger than the size limit once unpacked (crawl.max_page_bytes)"
PUBLIC_DOCTYPE = b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "rss-0.91.dtd">\n'
ENTITIES = b"<!DOCTYPE feed [\n<!ENTITY a \"aaaaaaaaaa\">\n" + b"".join(
    b'<!ENTITY %s "%s">\n' % (f"a{n}".encode(), (b"&a%d;" % (n - 1) if n > 1 else b"&a;") * 10) for n in range(1, 8)
) + b"]>\n"


def urlset(count: int) -> bytes:
    entries = b"".join(b"<url><loc>https://elsewhere.example/%d.html</loc></url>" % n for n in range(count))
    return b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + entries + b"</urlset>"


def with_doctype(feed: bytes, doctype: bytes) -> bytes:
    declaration_end = feed.index(b"?>") + 2
    return feed[:declaration_end] + b"\n" + doctype + feed[declaration_end:]


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_each_limit_is_the_error_of_its_source(
    tmp_path: Path, fixture_web: LocalWeb, initialised_database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = {site: fixture_web.url(site) for site in fixture_web.sites}
    sources = fixture_web.sources()
    for source in sources:
        if source["name"] == "timkiem":
            source["sitemaps"] = [base["timkiem"] + "/sitemap-bomb.xml"]
        if source["name"] == "congantinh":
            source["feeds"] = [base["congantinh"] + "/tin-tuc"]
    bomb = gzip.compress(b'<?xml version="1.0"?><urlset>' + b" " * 5_000_000 + b"</urlset>")
    fixture_web.set_route(
        "timkiem", "/sitemap-bomb.xml", body=bomb,
        headers={"Content-Type": "application/xml", "Content-Encoding": "gzip"},
    )
    fixture_web.set_route(
        "baodiaphuong", "/sitemaps/bai-viet-2.xml.gz", body=gzip.compress(urlset(LIMIT // 40)),
        headers={"Content-Type": "application/x-gzip"},
    )
    rss, atom = (base["tinbiengioi"] + path for path in ("/rss/tin-moi.rss", "/feeds/thoi-su.atom"))
    fixture_web.set_route(
        "tinbiengioi", "/rss/tin-moi.rss", body=with_doctype(fetch(rss), PUBLIC_DOCTYPE),
        headers={"Content-Type": "application/rss+xml"},
    )
    fixture_web.set_route(
        "tinbiengioi", "/feeds/thoi-su.atom",
        body=with_doctype(fetch(atom), ENTITIES).replace(b"<title>", b"<title>&a7;", 1),
        headers={"Content-Type": "application/atom+xml"},
    )
    config = write_config(tmp_path, fixture_web, crawl={"max_page_bytes": LIMIT}, sources=sources)
    shutil.copyfile(initialised_database, tmp_path / "qpan.db")

    result = qpan_process(config, "crawl", "--quiet")

    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    run = json.loads(run_qpan(capsys, "--config", str(config), "runs", "--format", "json").stdout)[0]
    errors = {source["source"]: (source["errors"], source["error"]) for source in run["per_source"]}
    assert errors["timkiem"] == (1, f"{UNPACKED} for {base['timkiem']}/sitemap-bomb.xml")
    assert errors["baodiaphuong"] == (1, f"{UNPACKED}: {base['baodiaphuong']}/sitemaps/bai-viet-2.xml.gz")
    assert errors["congantinh"] == (1, f"not a feed: {base['congantinh']}/tin-tuc")
    listed = json.loads(run_qpan(capsys, "--config", str(config), "sources", "--format", "json").stdout)
    last_errors = {entry["name"]: entry["last_error"] for entry in listed}
    assert last_errors["timkiem"] == errors["timkiem"][1]
    assert last_errors["baodiaphuong"] == errors["baodiaphuong"][1]

    stored = {article.url for article in stored_articles(config)}
    from_doctype_feeds = {fixture_web.article_url("tinbiengioi", n) for n in (101, 104, 102, 109)}
    assert from_doctype_feeds <= stored  # 101, 104 only in the RSS feed; 102, 109 only in the Atom feed


def test_a_link_beyond_the_depth_limit_is_an_error_of_its_source() -> None:
    crawler = get_crawler(settings_dict={"DEPTH_LIMIT": 2})
    crawler.stats.open_spider()
    depth = SourceDepthLimit.from_crawler(crawler)
    page = HtmlResponse("https://bao.vn/trang-2.html", body=b"", request=Request("https://bao.vn/trang-2.html"))
    page.meta["depth"] = 2
    link = Request("https://bao.vn/trang-3.html", meta={meta.SOURCE: "bao"})
    assert depth.get_processed_request(link, page) is None
    assert crawler.stats.get_value("qpan/source/bao/errors") == 1
    assert crawler.stats.get_value("qpan/source/bao/error_text") == (
        "depth limit (2) reached: https://bao.vn/trang-3.html not followed"
    )
