"""The JSON shapes of what qpan stored, one definition each for the CLI and the web view.

``qpan articles --format json`` and ``/api/articles`` print the same article JSON, ``qpan show``
and ``/api/articles/{id}`` the same detail, ``qpan runs`` and ``/api/runs`` the same run rows,
``qpan sources`` and ``/api/sources`` the same source rows: each is built here, once.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qpan.config import Config, SourceConfig
from qpan.crawler.registry import all_sources
from qpan.crawler.urls import redact_text
from qpan.output import local_iso
from qpan.stats import RUN_FIGURES
from qpan.storage.models import Article, CrawlRun, SourceHealth
from qpan.storage.queries import related_articles
from qpan.storage.triage import triage_json

if TYPE_CHECKING:
    from qpan.pipelines.relevance import ThemeProfile

# the columns of the article CSV (`qpan export --format csv`, the web list's CSV link)
CSV_COLUMNS = [
    "id", "url", "canonical_url", "source", "title", "published", "author", "relevance", "relevant",
    "matched_terms", "duplicate_of", "cluster", "fetched_at", "triage", "text",
]


def duplicate_label(article: Article) -> int | str | None:
    """The article JSON's ``duplicate_of``: a seed's name, an article id, or None."""
    target = article.duplicate_of
    if target is None:
        return article.duplicate_of_id
    return target.seed_name if target.seed_name else target.id


def article_json(article: Article, *, with_text: bool = True) -> dict[str, Any]:
    triage = triage_json(article.verdicts[-1] if article.verdicts else None)
    data: dict[str, Any] = {
        "id": article.id,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "source": article.source,
        "seed_name": article.seed_name,
        "title": article.title,
        "published": local_iso(article.published),
        "author": article.author,
        "section": article.section,
        "language": article.language,
        "relevance": round(article.relevance, 4),
        "relevant": article.relevant,
        "matched_terms": article.matched_terms or {},
        "duplicate_of": duplicate_label(article),
        "cluster": article.cluster,
        "fetched_at": local_iso(article.fetched_at),
        "truncated": article.truncated,
        "triage": triage and {**triage, "at": local_iso(triage["at"])},
    }
    if with_text:
        data["text"] = article.text
    return data


def _brief(article: Article) -> dict[str, Any]:
    return {"id": article.id, "source": article.source, "title": article.title}


def article_detail(session: Session, article: Article, profile: ThemeProfile) -> dict[str, Any]:
    """One article as ``qpan show --format json`` prints it: the article JSON, its relations, why it scored."""
    duplicates, cluster = related_articles(session, article)
    data = article_json(article)
    data["duplicates"] = [_brief(a) for a in duplicates]
    data["cluster_members"] = [_brief(a) for a in cluster]
    data["extraction_methods"] = article.methods or {}
    data["explanation"] = profile.score(article.title, article.text).explain()
    return data


def write_articles_csv(rows: Iterable[Mapping[str, Any]], stream: IO[str]) -> None:
    """Article JSON rows as CSV; nested values (matched terms, triage) as JSON in their cell."""
    writer = csv.DictWriter(stream, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        nested = {
            key: "" if row.get(key) is None else json.dumps(row[key], ensure_ascii=False)
            for key in ("matched_terms", "triage")
        }
        writer.writerow({**row, **nested})


def run_row(run: CrawlRun) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": run.id,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "status": run.status,
        "trigger": run.trigger,
        "sources": len(run.sources),
        "error": run.error,
    }
    for figure in RUN_FIGURES:
        row[figure] = sum(getattr(s, figure) for s in run.sources)
    row["unreached"] = [s.source for s in run.sources if not s.reached]
    row["per_source"] = [
        {
            "source": s.source,
            **{figure: getattr(s, figure) for figure in RUN_FIGURES},
            "dropped": s.dropped,
            "reached": s.reached,
            "error": s.error_text,
        }
        for s in run.sources
    ]
    return row


def health_by_source(session: Session) -> dict[str, SourceHealth]:
    return {row.source: row for row in session.scalars(select(SourceHealth))}


def _starts(source: SourceConfig) -> str:
    """What the crawl starts from, e.g. "2 feeds, 1 sitemap, discover"."""
    parts = [
        f"{len(values)} {label}{'' if len(values) == 1 or label == 'search' else 's'}"
        for label, values in (
            ("feed", source.feeds), ("sitemap", source.sitemaps),
            ("listing", source.listings), ("search", source.search),
        )
        if values
    ]
    if source.prime:
        parts.append("cookie primed")
    if source.discover:
        parts.append("discover")
    return ", ".join(parts)


def _shown(source: SourceConfig) -> dict[str, Any]:
    """The registry entry as shown: a URL's password (HTTP basic auth) becomes ``***``."""
    data = source.model_dump(mode="json")
    if data["home"]:
        data["home"] = redact_text(data["home"])
    for key in ("feeds", "sitemaps", "listings", "search"):
        data[key] = [redact_text(url) for url in data[key]]
    return data


def source_rows(config: Config, health: Mapping[str, SourceHealth]) -> list[dict[str, Any]]:
    """The registry (shipped + qpan.toml), each source with its health record if it has one."""
    rows = []
    for source in all_sources(config):
        state = health.get(source.name)
        rows.append(
            {
                **_shown(source),
                "starts": _starts(source),
                "last_run": state.last_run_at if state else None,
                "last_success": state.last_success_at if state else None,
                "last_articles": state.last_articles if state else None,
                "total_articles": state.total_articles if state else None,
                "consecutive_failures": state.consecutive_failures if state else None,
                "consecutive_empty": state.consecutive_empty if state else None,
                "last_error": state.last_error if state else None,
                "discovered": state.discovered if state else {},
            }
        )
    return rows
