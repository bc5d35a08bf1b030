"""``qpan serve`` over HTTP on SQLite and PostgreSQL: every page and API route, the filters,
triage with its CSRF rule, the token rule, strict headers, and scraped XSS rendered inert."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from qpan.config import config_from_dict
from qpan.storage.articles import store_article
from qpan.storage.db import Database
from qpan.storage.migrate import upgrade
from support.cli import run_qpan
from support.services import fresh_postgres_database
from support.store import insert_article
from support.web import XSS_TITLE, populate, served

PAGES = ["/", "/articles", "/articles?relevance=all", "/sources", "/runs"]
DATA = ["/api/articles", "/api/sources", "/api/runs", "/feed.atom", "/articles.csv"]
TOKEN = "s3cret-token-for-tests-0123456789"


@dataclass
class Site:
    url: str
    database: Database
    ids: dict[str, int]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=20)

    def article_path(self, name: str) -> str:
        return f"/articles/{self.ids[name]}"


def _site(url: str) -> Iterator[Site]:
    database = Database(url)
    upgrade(database)
    ids = populate(database)
    try:
        with served(config_from_dict({}), database) as base:
            yield Site(base, database, ids)
    finally:
        database.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if request.param == "sqlite":
        yield from _site(f"sqlite:///{tmp_path_factory.mktemp('web') / 'q.db'}")
        return
    with fresh_postgres_database() as url:
        yield from _site(url)


@pytest.fixture
def cli_env(site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI pointed at the served database, with the same (default) config as the server."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QPAN_CONFIG", raising=False)
    monkeypatch.setenv("QPAN_DATABASE_URL", site.database.url)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the triage form carries a CSRF token"
    return found.group(1)


def _article_ids(page: str) -> list[str]:
    return re.findall(r'<td><a href="/articles/(\d+)"', page)


def test_every_page_answers_with_strict_headers(site: Site) -> None:
    with site.client() as client:
        for path in [*PAGES, site.article_path("original"), *DATA]:
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.headers["content-security-policy"].startswith("default-src 'self'"), path
            assert response.headers["x-content-type-options"] == "nosniff", path
        assert client.get("/articles/999999").status_code == 404
        assert client.get("/api/articles/999999").json() == {"error": "no article with id 999999"}
        assert client.get("/articles?since=yesterday").status_code == 400
        assert "<script" not in "".join(client.get(path).text for path in PAGES)


def test_overview_draws_charts_health_runs_alerts_and_triage(site: Site) -> None:
    with site.client() as client:
        page = client.get("/").text
    # the relevant crawled articles of the last year, stacked per source in the weekly chart
    charted = re.search(r'aria-label="(\d+) relevant articles in the last year', page)
    assert charted and int(charted.group(1)) >= 4
    assert len(re.findall(r'<rect class="s\d"', page)) >= 3
    assert "from baobackan</title>" in page
    # source health: a row per source of the last runs, with sparklines, reached dots and the last error
    assert "<polyline points=" in page and "DNS lookup failed" in page
    assert page.count('class="dot ok"') == 3 and page.count('class="dot bad"') == 1
    assert "1 failing" in page and "connection refused" in page
    assert 'id="triage-summary">verdicts:' in page


def test_overview_counts_follow_stored_and_restored_articles(site: Site) -> None:
    def relevant(client: httpx.Client) -> int:
        found = re.search(r"<b>(\d+)</b> relevant of (\d+) stored articles", client.get("/").text)
        assert found
        return int(found.group(1))

    with site.client() as client:
        before = relevant(client)
        url = "https://example.vn/restored.html"
        insert_article(site.database, title="Phối hợp", text="Công an, Quân sự.", source="x", relevance=0.9,
                       relevant=True, url=url)
        assert relevant(client) == before + 1
        with site.database.session() as session:  # a re-crawl finds it no longer relevant
            store_article(session, {"canonical_url": url, "source": "x", "content_hash": "0" * 64, "relevant": False})
        assert relevant(client) == before


def test_article_page_shows_why_terms_duplicates_and_cluster(site: Site) -> None:
    with site.client() as client:
        original = client.get(site.article_path("original")).text
        same_story = client.get(site.article_path("same_story")).text
    text = original[original.index('<section class="text">'):]
    marked = "<mark>Công an tỉnh</mark> tổ chức <mark>giao ban</mark> thực hiện <mark>Nghị định 03/2019/NĐ-CP</mark>"
    assert marked in text
    assert "relevant: score" in original  # the scorer's explanation sentence
    assert f'href="/articles/{site.ids["duplicate"]}"' in original  # republished as
    assert f'href="/articles/{site.ids["same_story"]}"' in original  # same story
    assert f'href="/articles/{site.ids["original"]}"' in same_story
    assert "(giờ Việt Nam)" in original


def test_api_returns_the_same_json_as_the_cli(site: Site, cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    original = site.ids["original"]
    pairs = {
        "/api/articles": ("articles", "--format", "json"),
        "/api/sources": ("sources", "--format", "json"),
        "/api/runs": ("runs", "--format", "json"),
        f"/api/articles/{original}": ("show", str(original), "--format", "json"),
    }
    with site.client() as client:
        for path, command in pairs.items():
            cli = run_qpan(capsys, *command)
            assert cli.code == 0, cli.stderr
            assert client.get(path).json() == json.loads(cli.stdout), path


def test_filters_search_and_stable_pages(site: Site) -> None:
    with site.client() as client:

        def titles(query: str) -> list[str]:
            return [row["title"] for row in client.get(f"/api/articles{query}").json()]

        assert titles("?q=nghi+dinh+03&relevance=all") == titles("?q=Nghị+định+03&relevance=all") != []
        assert titles("?source=vnexpress") == []
        assert titles("?source=vnexpress&relevance=all") == ["Công an quận bắt giữ đối tượng trộm cắp"]
        assert "Bắc Kạn: giao ban Nghị định 03 (đăng lại)" in titles("")
        assert "Bắc Kạn: giao ban Nghị định 03 (đăng lại)" not in titles("?duplicates=hide")
        assert titles("?min=0.85&source=baobackan&source=congthongtintinh") == [
            "Bắc Kạn: giao ban Nghị định 03 (đăng lại)", "Giao ban thực hiện Nghị định 03/2019/NĐ-CP tại Bắc Kạn"
        ]
        assert titles("?until=2000-01-01") == [] and titles("?since=2000-01-01") == titles("")
        first = client.get("/articles?limit=2").text
        older = re.search(r'rel="next" href="(/articles\?[^"]+)"', first)
        assert older, "a page of two has a link to the next"
        link = older.group(1).replace("&amp;", "&")
        second = _article_ids(client.get(link).text)
        assert len(second) == 2 and not set(second) & set(_article_ids(first))
        insert_article(site.database, title="Bài mới nhất: phối hợp", text="Công an và Quân sự phối hợp.",
                       source="x", relevance=0.9, relevant=True)
        assert _article_ids(client.get(link).text) == second, "a page's link keeps its articles as new ones arrive"


def test_list_is_also_csv_json_and_atom_by_link(site: Site) -> None:
    with site.client() as client:
        page = client.get("/articles?source=baobackan").text
        assert '/articles.csv?source=baobackan"' in page and '/feed.atom?source=baobackan"' in page
        csv_text = client.get("/articles.csv?source=baobackan").text
        atom = client.get("/feed.atom?source=baobackan")
    assert csv_text.splitlines()[0].startswith("id,url,canonical_url,source,title")
    assert len(csv_text.splitlines()) == 2 and "Bắc Kạn" in csv_text
    assert atom.headers["content-type"].startswith("application/atom+xml")
    assert atom.text.count("<entry>") == 1


def test_triage_needs_the_csrf_token_and_keeps_the_scorer_verdict(site: Site) -> None:
    path = site.article_path("irrelevant")
    with site.client() as client:
        token = _csrf(client.get(path).text)
        form = {"verdict": "relevant", "note": "về phối hợp, thật ra", "who": "lan"}
        assert client.post(f"{path}/triage", data=form).status_code == 403
        assert client.post(f"{path}/triage", data={**form, "csrf": "forged" * 8}).status_code == 403
        with site.client() as stranger:  # another site's form: the browser does not send our cookie along
            assert stranger.post(f"{path}/triage", data={**form, "csrf": token}).status_code == 403
        assert client.get(f"/api{path}").json()["triage"] is None
        response = client.post(f"{path}/triage", data={**form, "csrf": token})
        assert response.status_code == 303 and response.headers["location"] == path
        assert client.post(f"{path}/triage", data={"verdict": "maybe", "csrf": token}).status_code == 400
        detail = client.get(f"/api{path}").json()
        listed = client.get("/articles?relevance=all").text
        overview = client.get("/").text
    assert detail["triage"]["verdict"] == "relevant" and detail["triage"]["who"] == "lan"
    assert detail["relevant"] is False  # the scorer's verdict stays
    assert 'class="verdict v-relevant"' in listed
    assert "missed 1 (judged relevant" in overview


def test_scraped_markup_renders_inert(site: Site) -> None:
    with site.client() as client:
        page = client.get(site.article_path("xss")).text
        listed = client.get("/articles").text
    for html in (page, listed):
        assert "<script>" not in html and "<img src=x" not in html
        assert 'href="javascript:' not in html.lower()
        assert "&lt;script&gt;window.qpanPwned=1&lt;/script&gt;" in html
    assert "javascript:window.qpanPwned=6</span> (not a web address)" in page
    assert XSS_TITLE not in page


def test_new_articles_are_marked_since_the_last_visit(site: Site) -> None:
    with site.client() as client:
        client.get("/articles")  # a first visit marks nothing and remembers the newest article
        assert 'class="new"' not in client.get("/articles").text
        _, seen, _ = client.cookies["qpan_visit"].split(":")
        # that visit (which had marked everything above id 0) ended long ago: only what came since is new
        client.cookies.set("qpan_visit", f"0:{seen}:1")
        new_id = insert_article(site.database, title="Tin mới: giao ban Nghị định 03", text="Công an, Quân sự.",
                                source="x", relevance=0.9, relevant=True)
        page = client.get("/articles").text
        again = client.get("/articles").text  # the same visit: the mark stays
        overview = client.get("/").text
    rows = re.findall(r'<tr class="">(.*?)</tr>', page, re.S)
    marked = [_article_ids(row)[0] for row in rows if '<span class="new">' in row]
    assert marked == [str(new_id)]
    assert again.count('<span class="new">') == 1
    assert "<b>1</b> new relevant since your last visit" in overview


def test_a_token_guards_every_page_and_api_call(site: Site) -> None:
    with served(config_from_dict({}), site.database, token=TOKEN) as base, httpx.Client(
        base_url=base, timeout=20
    ) as client:
        for path in [*PAGES, *DATA, "/static/qpan.css", site.article_path("original")]:
            assert client.get(path).status_code == 401, path
        assert client.get("/api/runs", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/api/runs", params={"token": "wrong"}).status_code == 401
        assert client.get("/api/runs", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        welcome = client.get("/articles", params={"token": TOKEN, "source": "x"})
        assert welcome.status_code == 303 and welcome.headers["location"].endswith("/articles?source=x")
        assert client.get("/articles").status_code == 200  # with the cookie the welcome set
