"""The source registry: the shipped sources (``crawler/sources.toml``) merged with config.

The shipped file is data validated by the same pydantic model as ``[[sources]]`` in
qpan.toml, so a broken shipped entry fails loudly in tests rather than silently at 3 a.m.
Config entries are added to the shipped ones, or replace one of the same name.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qpan.config import Config, SourceConfig
from qpan.errors import UserError

SHIPPED_PATH = Path(__file__).with_name("sources.toml")


class ShippedRegistry(BaseModel):
    """The shape of ``sources.toml``: theme queries and the ``[[sources]]`` list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    queries: list[str] = Field(default_factory=list)
    sources: list[SourceConfig] = Field(default_factory=list)


class UnknownSource(UserError):
    exit_code = 2

    def __init__(self, names: list[str], known: list[str]) -> None:
        super().__init__(
            f"unknown source {', '.join(repr(n) for n in names)}; known sources: {', '.join(known)}"
        )


def load_registry(path: Path) -> ShippedRegistry:
    """Parse and validate one registry file; a problem is one line naming the file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        registry = ShippedRegistry.model_validate(data)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"source registry {path}: {exc}") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise UserError(f"source registry {path}: {where}: {error['msg']}") from None
    names = [source.name for source in registry.sources]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise UserError(f"source registry {path}: source name repeated: {', '.join(repeated)}")
    return registry


@cache
def shipped_registry() -> ShippedRegistry:
    return load_registry(SHIPPED_PATH)


def all_sources(config: Config) -> list[SourceConfig]:
    """Shipped sources (unless ``crawl.shipped_sources = false``) merged with config, by name."""
    merged: dict[str, SourceConfig] = {}
    if config.crawl.shipped_sources:
        merged.update((source.name, source) for source in shipped_registry().sources)
    merged.update((source.name, source) for source in config.sources)
    return list(merged.values())


def select_sources(config: Config, names: list[str] | None = None) -> list[SourceConfig]:
    """The sources of one run: the named ones (even if disabled), else every enabled one."""
    sources = all_sources(config)
    if not names:
        return [source for source in sources if source.enabled]
    by_name = {source.name: source for source in sources}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise UnknownSource(unknown, sorted(by_name))
    return [by_name[name] for name in dict.fromkeys(names)]


def theme_queries(config: Config) -> list[str]:
    """Queries for site search and news search: ``[topic] queries``, else the shipped list."""
    return list(config.topic.queries) or list(shipped_registry().queries)


def source_domains(source: SourceConfig) -> list[str]:
    """The hosts a source may be fetched from: ``domains``, else the hosts of its URLs.

    An entry with a port (``127.0.0.1:8001``) matches that host and port only; one
    without matches the host and its subdomains on any port.
    """
    if source.domains:
        return [domain.lower() for domain in source.domains]
    hosts = (urlsplit(url).netloc.rpartition("@")[2].lower() for url in source_urls(source))
    return list(dict.fromkeys(host for host in hosts if host))


def source_urls(source: SourceConfig) -> list[str]:
    """Every URL the registry gives for ``source`` (some may carry ``user:password@``)."""
    return [url for url in (source.home, *source.feeds, *source.sitemaps, *source.listings, *source.search) if url]


def host_allowed(url: str, domains: list[str]) -> bool:
    """True when ``url`` lies on one of ``domains`` (see :func:`source_domains`)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        return False
    for domain in domains:
        name, _, domain_port = domain.partition(":")
        if domain_port:
            if host == name and str(port or "") == domain_port:
                return True
        elif host == name or host.endswith("." + name):
            return True
    return False


def sources_from_settings(value: list[dict[str, object]]) -> list[SourceConfig]:
    """The run's sources back from ``QPAN_SOURCES`` (plain dicts, as settings must be)."""
    return [SourceConfig.model_validate(entry) for entry in value]
