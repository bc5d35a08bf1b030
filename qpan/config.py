"""Configuration: one TOML file validated into typed models.

Every key is checked (unknown keys, wrong types, bad regexes), because a typo in a
file that drives an unattended crawler would otherwise be silently ignored for months.
Errors surface as :class:`ConfigError` carrying one line that names the file and key.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_CONFIG_NAME = "qpan.toml"
DEFAULT_DATABASE_URL = "sqlite:///qpan.db"


class ConfigError(Exception):
    """A user-fixable configuration problem; its message is the one line shown."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Strict):
    url: str = DEFAULT_DATABASE_URL


class Selectors(_Strict):
    """CSS selectors (parsel syntax, `::text` / `::attr()` allowed) for one site."""

    title: str | None = None
    body: str | None = None
    date: str | None = None
    author: str | None = None
    section: str | None = None
    remove: list[str] = Field(default_factory=list)


_HTTP_URL = re.compile(r"^https?://[^/\s]+")
_QUERY_NAME = re.compile(r"^[A-Za-z0-9_.\[\]-]+$")
_VERIFIED = re.compile(r"^(?:unverified|\d{4}-\d{2}(?:-\d{2})? \S.*)$")


class SourceConfig(_Strict):
    """One news source; the same shape in the shipped registry and in `[[sources]]`."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    title: str | None = None
    home: str | None = None
    domains: list[str] = Field(default_factory=list)
    feeds: list[str] = Field(default_factory=list)
    sitemaps: list[str] = Field(default_factory=list)
    listings: list[str] = Field(default_factory=list)
    search: list[str] = Field(default_factory=list)
    article_pattern: str | None = None
    discover: bool = False
    enabled: bool = True
    download_delay: float | None = Field(default=None, ge=0)
    max_listing_pages: int = Field(default=3, ge=1, le=100)
    selectors: Selectors | None = None
    # URLs fetched (redirects not followed) before the feeds, for the cookies they set:
    # some sites (qdnd.vn) answer their feeds only to a client that visited /rss first.
    prime: list[str] = Field(default_factory=list)
    # Query parameters that identify an article (mod.gov.vn: ?urile=wcm:path:...): the canonical
    # URL is the page URL with only these parameters, whatever the page's own canonical link says.
    keep_query: list[str] = Field(default_factory=list)
    # What the entry was last checked against, and when: "2026-07 live check (evidence A)".
    verified: str = "unverified"

    @field_validator("prime")
    @classmethod
    def _prime_is_http(cls, value: list[str]) -> list[str]:
        for url in value:
            if not _HTTP_URL.match(url):
                raise ValueError(f"prime URL {url!r} is not an absolute http(s) URL")
        return value

    @field_validator("keep_query")
    @classmethod
    def _keep_query_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _QUERY_NAME.match(name):
                raise ValueError(f"{name!r} is not a query parameter name")
        return value

    @field_validator("verified")
    @classmethod
    def _verified_says_when(cls, value: str) -> str:
        if not _VERIFIED.match(value):
            raise ValueError(
                f"{value!r} is neither 'unverified' nor a date and what was checked, e.g. '2026-07 live check'"
            )
        return value

    @field_validator("article_pattern")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression ({exc})") from exc
        return value

    @field_validator("search")
    @classmethod
    def _search_has_query(cls, value: list[str]) -> list[str]:
        for template in value:
            if "{query}" not in template:
                raise ValueError(f"search template {template!r} has no {{query}} placeholder")
        return value


MAX_SINCE_DAYS = 36_500  # a century: beyond it a date computation overflows


class CrawlConfig(_Strict):
    shipped_sources: bool = True
    since_days: int = Field(default=30, ge=0, le=MAX_SINCE_DAYS)
    user_agent_contact: str = "https://github.com/qpan/qpan"
    concurrent_requests: int = Field(default=16, ge=1, le=256)
    concurrent_per_domain: int = Field(default=4, ge=1, le=64)
    download_delay: float = Field(default=0.5, ge=0)
    download_timeout: float = Field(default=30, gt=0)
    max_page_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    max_text_chars: int = Field(default=200_000, ge=1000)
    # Article URLs followed per sitemap per run (README "Sitemaps": why 5,000).
    max_sitemap_urls: int = Field(default=5000, ge=1)
    # Processes for the per-page work (qpan/workers.py); None: one per core beyond the first.
    page_workers: int | None = Field(default=None, ge=0, le=64)
    theme_search: bool = True
    obey_robots: bool = True
    autothrottle: bool = True
    # Scale-out (opt-in): several `qpan crawl` processes share one frontier and seen-set here.
    redis_url: str | None = Field(default=None, pattern=r"^(redis|rediss|unix)://")


class TopicConfig(_Strict):
    """Overrides of the theme profile built from the seeds."""

    threshold: float = Field(default=0.5, ge=0, le=1)
    profile: str | None = None
    terms: dict[str, float] = Field(default_factory=dict)
    queries: list[str] = Field(default_factory=list)


def _check_cron(value: str | None) -> str | None:
    if value is not None:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a valid crontab line ({exc})") from exc
    return value


def _check_duration(value: str | None) -> str | None:
    if value is not None:
        parse_duration(value)
    return value


class SourceSchedule(_Strict):
    """A per-source override of the crawl schedule (`[schedule.sources.NAME]`)."""

    every: str | None = None
    cron: str | None = None

    _every = field_validator("every")(_check_duration)
    _cron = field_validator("cron")(_check_cron)


class ScheduleConfig(_Strict):
    every: str | None = "30m"
    cron: str | None = None
    timeout: str = "2h"
    misfire_grace: str = "10m"
    check: str | None = None  # e.g. "7d": run `qpan sources --check` this often, alert when a source turns broken
    sources: dict[str, SourceSchedule] = Field(default_factory=dict)

    _durations = field_validator("every", "timeout", "misfire_grace", "check")(_check_duration)
    _cron = field_validator("cron")(_check_cron)



MAX_ALERT_TIMEOUT = 600.0  # well inside the outbox's 15 min sending lease, so no second sender starts meanwhile


def _check_alert_timeout(value: str) -> str:
    seconds = parse_duration(value)
    if not 0 < seconds <= MAX_ALERT_TIMEOUT:
        raise ValueError(f"{value!r} must be more than 0s and at most {MAX_ALERT_TIMEOUT:g}s")
    return value


class AlertsConfig(_Strict):
    urls: list[str] = Field(default_factory=list)
    digest: bool = True
    health_after_runs: int = Field(default=3, ge=1)
    max_attempts: int = Field(default=10, ge=1)
    atom_path: str | None = None
    # How long a channel may take to answer; Apprise's own 4 s read timeout turned slow webhooks into repeats.
    timeout: str = "30s"

    _timeout = field_validator("timeout")(_check_alert_timeout)


class WebConfig(_Strict):
    """`qpan serve`: where it listens; a token is required on any address but loopback."""

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    token: str | None = Field(default=None, min_length=16)


class Config(_Strict):
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    crawl: CrawlConfig = Field(default_factory=CrawlConfig)
    sources: list[SourceConfig] = Field(default_factory=list)
    topic: TopicConfig = Field(default_factory=TopicConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    path: str | None = Field(default=None, exclude=True)

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, value: list[SourceConfig]) -> list[SourceConfig]:
        names = [source.name for source in value]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"source name repeated: {', '.join(repeated)}")
        return value


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``30m``, ``2h``, ``45s`` or ``1d``."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 30s, 30m, 2h or 1d")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _location(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """Render a pydantic error location the way the user wrote it in TOML."""
    parts: list[str] = []
    node: Any = data
    for item in loc:
        if isinstance(item, int):
            name = node[item].get("name") if isinstance(node, list) and item < len(node) else None
            parts[-1] = f"{parts[-1]}[{name!r}]" if name and parts else f"{parts[-1]}[{item}]"
            node = node[item] if isinstance(node, list) and item < len(node) else None
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts)


def _describe(error: dict[str, Any], data: dict[str, Any]) -> str:
    where = _location(tuple(error["loc"]), data)
    if error["type"] == "extra_forbidden":
        return f"unknown key {where!r}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def config_from_dict(data: dict[str, Any], origin: str = "<defaults>") -> Config:
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = len(exc.errors()) - 1
        suffix = f" (and {more} more)" if more else ""
        raise ConfigError(f"{origin}: {_describe(first, data)}{suffix}") from None
    config = config.model_copy(update={"path": origin if origin != "<defaults>" else None})
    return _with_files_checked(config, origin)


def _with_files_checked(config: Config, origin: str) -> Config:
    """Files the config names are looked for relative to its folder, and must exist now.

    A missing theme profile used to surface only when a crawl built its pipeline (two
    tracebacks), or after ``qpan init`` had created the schema but not loaded the seeds.
    """
    profile = config.topic.profile
    if profile is None:
        return config
    path = Path(profile).expanduser()
    if not path.is_absolute() and config.path is not None:
        path = Path(config.path).parent / path
    if not path.is_file():
        raise ConfigError(f"{origin}: topic.profile: no such file {str(path)!r}")
    topic = config.topic.model_copy(update={"profile": str(path)})
    return config.model_copy(update={"topic": topic})


def resolve_config_path(explicit: str | os.PathLike[str] | None) -> Path | None:
    """Which file to read: ``--config``, then ``QPAN_CONFIG``, then ``./qpan.toml`` if present."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("QPAN_CONFIG")
    if env:
        return Path(env)
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    return local if local.exists() else None


_SQLITE = "sqlite:///"


def _anchor_database(data: dict[str, Any], folder: Path) -> None:
    """A relative SQLite path in a config file is relative to the file's folder, not the working directory.

    So ``qpan -c /etc/qpan/qpan.toml articles`` reads the same database from anywhere; the default
    ``qpan.db`` of a config file without ``[database]`` lies beside it too. ``QPAN_DATABASE_URL``
    keeps the shell's meaning (absolute, or relative to the working directory).
    """
    database = data.get("database")
    if database is not None and not isinstance(database, dict):
        return  # the model's validation names the wrong type
    url = (database or {}).get("url", DEFAULT_DATABASE_URL)
    if not isinstance(url, str) or not url.startswith(_SQLITE):
        return
    rest = url[len(_SQLITE):]
    if not rest or rest.startswith(("/", ":memory:", "file:")) or Path(rest).expanduser().is_absolute():
        return
    data["database"] = {**(database or {}), "url": _SQLITE + str(folder.resolve() / rest)}


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    path = resolve_config_path(explicit)
    data: dict[str, Any] = {}
    origin = "<defaults>"
    if path is not None:
        origin = str(path)
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(f"{origin}: config file not found") from None
        except IsADirectoryError:
            raise ConfigError(f"{origin}: is a directory, not a config file") from None
        except PermissionError:
            raise ConfigError(f"{origin}: permission denied") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{origin}: not valid TOML ({exc})") from None
    if path is not None:
        _anchor_database(data, path.parent)
    env_url = os.environ.get("QPAN_DATABASE_URL")
    if env_url:
        database = data.get("database")
        data["database"] = {**(database if isinstance(database, dict) else {}), "url": env_url}
    return config_from_dict(data, origin)
