"""A source URL with ``user:password@`` is HTTP basic auth for that site, and the password is
never shown nor stored: not in the crawl's output, the database, ``qpan sources`` or ``qpan runs``."""

from __future__ import annotations

from pathlib import Path

from conftest import write_config
from test_crawler_e2e import STORED, assert_clean, init_copy, stored_articles

from qpan.crawler.urls import redact_text, split_credentials
from qpan.demo import LocalWeb
from support.cli import qpan_process

USER, PASSWORD = "reader", "s3cret-Pw"


def with_credentials(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{USER}:{PASSWORD}@{rest}"


def test_credentials_are_split_from_urls_and_redacted_in_text() -> None:
    assert split_credentials("https://u:p%40ss@example.org:8443/rss") == ("https://example.org:8443/rss", "u", "p@ss")
    assert split_credentials("https://example.org/rss") == ("https://example.org/rss", None, None)
    assert redact_text("https://u:pw@example.org/x") == "https://u:***@example.org/x"
    assert redact_text("https://example.org/x") == "https://example.org/x"
    assert redact_text("HTTP 500 for https://u:pw@a.org/x and ftp://b:c@d/") == (
        "HTTP 500 for https://u:***@a.org/x and ftp://b:***@d/"
    )


def test_a_source_behind_basic_auth_is_crawled_and_its_password_never_shown_or_stored(
    tmp_path: Path, fixture_web: LocalWeb, initialised_database: Path
) -> None:
    site = "tinbiengioi"
    entry = next(entry for entry in fixture_web.sources() if entry["name"] == site)
    entry = {**entry, "home": with_credentials(entry["home"]), "feeds": [with_credentials(f) for f in entry["feeds"]]}
    fixture_web.require_basic_auth(site, USER, PASSWORD)
    fixture_web.set_route(site, "/thoi-su/loi-may-chu-110.html", status=503)  # an error text that names a URL
    config = write_config(tmp_path, fixture_web, sources=[entry])
    init_copy(initialised_database, config)

    crawl = qpan_process(config, "crawl")
    listings = [qpan_process(config, *args) for args in (["sources"], ["sources", "--format", "json"], ["runs"])]

    assert_clean(crawl)
    assert crawl.returncode == 0, crawl.stdout + crawl.stderr
    stored = {article.url.rsplit("-", 1)[-1].removesuffix(".html") for article in stored_articles(config)}
    assert stored == STORED[site]
    assert all(record.status != 401 for record in fixture_web.requests(site)), "a request went without credentials"
    for result in [crawl, *listings]:
        assert result.returncode == 0, result.stderr
        assert PASSWORD not in result.stdout + result.stderr
    assert f"{USER}:***@" in listings[1].stdout, "the json listing shows that the URL has credentials"
    for database_file in tmp_path.glob("qpan.db*"):
        assert PASSWORD.encode() not in database_file.read_bytes(), database_file.name
