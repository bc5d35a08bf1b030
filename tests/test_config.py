"""Config loading: each bad input gives one clear line naming the file and key, exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from qpan.config import ConfigError, load_config, parse_duration


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "qpan.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QPAN_CONFIG", raising=False)
    monkeypatch.delenv("QPAN_DATABASE_URL", raising=False)
    config = load_config()
    assert config.database.url == "sqlite:///qpan.db"
    assert config.crawl.shipped_sources is True
    assert config.crawl.since_days == 30
    assert config.topic.threshold == 0.5
    assert config.path is None


def test_local_file_then_env_then_explicit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QPAN_DATABASE_URL", raising=False)
    write(tmp_path, '[crawl]\nsince_days = 5\n')
    other = tmp_path / "other.toml"
    other.write_text("[crawl]\nsince_days = 9\n", encoding="utf-8")
    third = tmp_path / "third.toml"
    third.write_text("[crawl]\nsince_days = 12\n", encoding="utf-8")
    monkeypatch.delenv("QPAN_CONFIG", raising=False)
    assert load_config().crawl.since_days == 5
    monkeypatch.setenv("QPAN_CONFIG", str(other))
    assert load_config().crawl.since_days == 9
    assert load_config(third).crawl.since_days == 12


def test_database_url_env_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[database]\nurl = "sqlite:///a.db"\n')
    monkeypatch.setenv("QPAN_DATABASE_URL", "sqlite:///b.db")
    assert load_config(path).database.url == "sqlite:///b.db"


def test_full_example_from_design_parses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QPAN_DATABASE_URL", raising=False)
    path = write(
        tmp_path,
        r'''
[database]
url = "sqlite:///qpan.db"
[crawl]
shipped_sources = false
since_days = 30
user_agent_contact = "https://example.org/contact"
[[sources]]
name = "example"
feeds = ["http://127.0.0.1:8765/rss.xml"]
sitemaps = []
listings = []
search = ["http://127.0.0.1:8765/search?q={query}"]
article_pattern = "/[^/]+-\\d+\\.html$"
[sources.selectors]
title = "h1::text"
body = "div.detail-content"
[topic]
threshold = 0.5
[schedule]
every = "30m"
[alerts]
urls = ["json://127.0.0.1:9000/hook"]
''',
    )
    config = load_config(path)
    assert config.sources[0].selectors is not None
    assert config.sources[0].selectors.body == "div.detail-content"
    assert config.alerts.urls == ["json://127.0.0.1:9000/hook"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[crawl]\nsince_dayz = 3\n", "unknown key 'crawl.since_dayz'"),
        ("[crawl]\nsince_days = 'three'\n", "crawl.since_days: Input should be a valid integer"),
        ("[topic]\nthreshold = 1.5\n", "topic.threshold: Input should be less than or equal to 1"),
        (
            '[[sources]]\nname = "x"\narticle_pattern = "(unclosed"\n',
            "sources['x'].article_pattern: not a valid regular expression",
        ),
        ('[[sources]]\nname = "x"\nsearch = ["http://h/s"]\n', "has no {query} placeholder"),
        ('[schedule]\nevery = "soon"\n', "schedule.every: 'soon' is not a duration"),
        ('[schedule]\ncron = "61 * * * *"\n', "schedule.cron"),
        ("[database\nurl = 1\n", "not valid TOML"),
        ('[[sources]]\nname = "x"\n[[sources]]\nname = "x"\n', "source name repeated: x"),
        ("[bogus]\na = 1\n", "unknown key 'bogus'"),
    ],
)
def test_bad_config_is_one_clear_message(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert expected in message
    assert "\n" not in message


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    "text", ["[crawl]\nsince_dayz = 3\n", "[database\n", '[[sources]]\nname = "x"\narticle_pattern = "("\n']
)
def test_cli_exits_2_with_one_line(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    result = subprocess.run(
        [sys.executable, "-m", "qpan", "--config", str(path), "articles"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "QPAN_DATABASE_URL": ""},
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(f"qpan: config error: {path}")
    assert "Traceback" not in result.stderr


def test_durations() -> None:
    assert parse_duration("30m") == 1800
    assert parse_duration("2h") == 7200
    assert parse_duration("45s") == 45
    with pytest.raises(ValueError):
        parse_duration("30 minutes")
