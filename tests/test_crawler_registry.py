"""The source registry: the shipped file validates, config merges by name, selection by --source."""

from __future__ import annotations

from pathlib import Path

import pytest

from qpan.config import ConfigError, SourceConfig, config_from_dict
from qpan.crawler.harvest.links import is_article_url
from qpan.crawler.registry import (
    UnknownSource,
    all_sources,
    host_allowed,
    load_registry,
    select_sources,
    shipped_registry,
    source_domains,
    theme_queries,
)
from qpan.errors import UserError

REQUIRED_DOMAINS = {
    "cand.vn", "congan.com.vn", "qdnd.vn", "bienphong.com.vn", "bocongan.gov.vn", "mod.gov.vn",
    "baotintuc.vn", "vietnamplus.vn", "nhandan.vn", "baochinhphu.vn", "vov.vn", "vtv.vn",
    "vnexpress.net", "tuoitre.vn", "thanhnien.vn", "dantri.com.vn", "baobackan.vn", "baohaugiang.com.vn",
    "sggp.org.vn", "baoquocte.vn",
}


def test_shipped_registry_covers_the_required_sources() -> None:
    registry = shipped_registry()
    domains = {domain for source in registry.sources for domain in source.domains}
    assert domains >= REQUIRED_DOMAINS
    assert len(registry.sources) >= 15
    assert registry.queries


def test_every_shipped_source_has_a_way_in() -> None:
    for source in shipped_registry().sources:
        starts = source.feeds or source.sitemaps or source.listings or source.search or source.discover
        assert starts, source.name
        assert source.home or source.domains, source.name


def test_config_source_overrides_shipped_by_name_and_adds_new_ones() -> None:
    config = config_from_dict(
        {
            "sources": [
                {"name": "vnexpress", "feeds": ["http://127.0.0.1:9/rss.xml"]},
                {"name": "local", "feeds": ["http://127.0.0.1:9/other.xml"]},
            ]
        }
    )
    by_name = {source.name: source for source in all_sources(config)}
    assert by_name["vnexpress"].feeds == ["http://127.0.0.1:9/rss.xml"]
    assert by_name["vnexpress"].search == []
    assert "local" in by_name and "tuoitre" in by_name


def test_shipped_sources_false_keeps_only_config_sources() -> None:
    config = config_from_dict(
        {"crawl": {"shipped_sources": False}, "sources": [{"name": "local", "feeds": ["http://127.0.0.1:9/f"]}]}
    )
    assert [source.name for source in all_sources(config)] == ["local"]


def test_selection_by_name_and_disabled_sources() -> None:
    config = config_from_dict(
        {
            "crawl": {"shipped_sources": False},
            "sources": [
                {"name": "a", "feeds": ["http://127.0.0.1:9/a"]},
                {"name": "b", "feeds": ["http://127.0.0.1:9/b"], "enabled": False},
            ],
        }
    )
    assert [source.name for source in select_sources(config)] == ["a"]
    assert [source.name for source in select_sources(config, ["b"])] == ["b"]
    with pytest.raises(UnknownSource) as raised:
        select_sources(config, ["nope"])
    assert "nope" in str(raised.value) and "a, b" in str(raised.value)


def test_a_broken_registry_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('[[sources]]\nname = "x"\narticle_pattern = "("\n', encoding="utf-8")
    with pytest.raises(UserError) as raised:
        load_registry(path)
    assert "\n" not in str(raised.value) and "article_pattern" in str(raised.value)
    path.write_text('[[sources]]\nname = "x"\n[[sources]]\nname = "x"\n', encoding="utf-8")
    with pytest.raises(UserError, match="repeated"):
        load_registry(path)


def test_theme_queries_come_from_topic_first() -> None:
    assert theme_queries(config_from_dict({"topic": {"queries": ["giao ban"]}})) == ["giao ban"]
    assert theme_queries(config_from_dict({})) == list(shipped_registry().queries)


def test_domains_default_to_the_hosts_of_the_source_urls() -> None:
    source = SourceConfig(name="x", feeds=["http://127.0.0.1:8001/rss.xml"], home="http://127.0.0.1:8001/")
    assert source_domains(source) == ["127.0.0.1:8001"]
    assert host_allowed("http://127.0.0.1:8001/a-1.html", ["127.0.0.1:8001"])
    assert not host_allowed("http://127.0.0.1:8002/a-1.html", ["127.0.0.1:8001"])
    assert host_allowed("https://m.vnexpress.net/x-1.html", ["vnexpress.net"])
    assert not host_allowed("https://notvnexpress.net/x-1.html", ["vnexpress.net"])


def test_sources_command_lists_the_merged_registry_and_its_verification_before_init(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from support.cli import run_qpan

    config = tmp_path / "qpan.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "qpan.db"}"\n'
        '[[sources]]\nname = "local"\nfeeds = ["http://127.0.0.1:9/rss.xml"]\nverified = "2026-11-30 feed read"\n',
        encoding="utf-8",
    )
    result = run_qpan(capsys, "--config", str(config), "sources", "--format", "json")
    assert result.code == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert len(rows) == len(shipped_registry().sources) + 1
    assert rows["local"]["starts"] == "1 feed" and rows["local"]["last_success"] is None
    assert "qpan init" in result.stderr
    assert rows["local"]["verified"] == "2026-11-30 feed read"
    assert rows["qdnd"]["verified"] == shipped("qdnd").verified and rows["mod"]["verified"] == "unverified"
    result = run_qpan(capsys, "--config", str(config), "sources", "--format", "csv")
    header, *lines = result.stdout.splitlines()
    assert "verified" in header.split(",")
    assert any(line.startswith("local,") and "2026-11-30 feed read" in line for line in lines)


def shipped(name: str) -> SourceConfig:
    return next(source for source in shipped_registry().sources if source.name == name)


def test_shipped_sources_follow_the_evidence_on_todays_sites() -> None:
    """The corrections of SOURCES-EVIDENCE.md: moved domains, real feed forms, real URL shapes."""
    cand = shipped("cand")
    assert cand.home == "https://cand.vn/" and "https://cand.vn/rss/home.rss" in cand.feeds
    assert is_article_url("https://cand.vn/thoi-su/hoi-nghi-giao-ban-post820144.html", cand.article_pattern)
    assert shipped("baobackan").home == "https://baobackan.vn/"
    qdnd = shipped("qdnd")
    assert qdnd.prime == ["https://www.qdnd.vn/rss"] and all("/rss/cate/" in url for url in qdnd.feeds)
    assert {url.rsplit("/", 1)[1] for url in shipped("baochinhphu").feeds} == {"home.rss", "kinh-te.rss", "quoc-te.rss"}
    assert all("/rss/" in url for url in shipped("vtv").feeds)
    assert shipped("nhandan").search == ["https://nhandan.vn/search/?q={query}"]
    assert shipped("mod").keep_query == ["urile"]
    thainguyen = shipped("baothainguyen").article_pattern
    assert is_article_url("https://baothainguyen.vn/thoi-su/202611/giao-ban-quy-iii-48211/", thainguyen)
    assert not is_article_url("https://baothainguyen.vn/thoi-su/", thainguyen)
    bocongan = shipped("bocongan")
    article = "https://bocongan.gov.vn/bai-viet/lanh-dao-bo-gui-thu-khen-1783311539"
    assert is_article_url(article, bocongan.article_pattern)
    assert all("/chuyen-muc/" in url for url in bocongan.listings)


def test_every_shipped_source_says_what_it_was_verified_against() -> None:
    for source in shipped_registry().sources:
        assert source.verified == "unverified" or source.verified[:4].isdigit(), source.name
    assert sum(source.verified != "unverified" for source in shipped_registry().sources) >= 10


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("verified", "checked last week", "neither 'unverified' nor a date"),
        ("verified", 2026, "valid string"),
        ("prime", ["/rss"], "not an absolute http(s) URL"),
        ("prime", "https://www.qdnd.vn/rss", "valid list"),
        ("keep_query", ["urile", "a b"], "not a query parameter name"),
    ],
)
def test_a_bad_new_field_is_one_config_line_naming_the_key(key: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config_from_dict({"sources": [{"name": "x", "feeds": ["http://127.0.0.1:9/f"], key: value}]}, "qpan.toml")
    text = str(raised.value)
    assert "\n" not in text and text.startswith(f"qpan.toml: sources['x'].{key}") and message in text


def test_the_shipped_file_rejects_a_bad_verified_value(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('[[sources]]\nname = "x"\nverified = "yes"\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"sources\.0\.verified: .*neither 'unverified' nor a date"):
        load_registry(path)
