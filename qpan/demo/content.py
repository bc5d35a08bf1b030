"""The local web's content model: sites and articles loaded from TOML data files.

A site is data (``site.toml`` + ``articles.toml`` or ``articles/*.toml``) so that tests
and the demo describe *what* a news site looks like, never *how* it is served. Dates may
be relative to the moment the web is loaded ("-2d", "-3d@08:30") so that a crawl with
``since_days=30`` sees the articles as new in any year.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from qpan.pipelines.normalize import fold
from qpan.timezone import VIETNAM

#: Every place an article can be linked from; an article's ``in`` list picks a subset.
CHANNELS = ("home", "listing", "search", "rss", "atom", "rdf", "sitemap")

_RELATIVE = re.compile(r"^-(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:@(\d{1,2}):(\d{2}))?$")
_DATELINE = re.compile(r"^(?:[^,]+,\s*)?(\d{1,2})/(\d{1,2})/(\d{4})(?:\D+(\d{1,2}):(\d{2}))?")
_WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


class ContentError(ValueError):
    """A site data file is malformed; the message names the file and the field."""


def slugify(text: str) -> str:
    """URL slug the way Vietnamese sites build them: "Nghị định 03" -> "nghi-dinh-03"."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def parse_when(value: Any, now: datetime) -> datetime:
    """An article date from data: relative ("-2d", "-1d6h", "-3d@08:30"), ISO, or a Vietnamese line."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=VIETNAM)
    text = str(value).strip()
    relative = _RELATIVE.match(text)
    if relative and text != "-":
        days, hours, minutes, hh, mm = (int(g) if g else None for g in relative.groups())
        moment = now - timedelta(days=days or 0, hours=hours or 0, minutes=minutes or 0)
        if hh is not None:
            moment = moment.replace(hour=hh, minute=mm or 0)
        return moment.replace(second=0, microsecond=0)
    dateline = _DATELINE.match(text)
    if dateline:
        day, month, year, hh, mm = (int(g) if g else 0 for g in dateline.groups())
        return datetime(year, month, day, hh, mm, tzinfo=VIETNAM)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ContentError(f"date {text!r} is neither relative (-2d), ISO nor dd/mm/yyyy") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VIETNAM)


def vietnamese_dateline(moment: datetime, pattern: str) -> str:
    """Render a date the way the site prints it, e.g. "{weekday}, {dd}/{mm}/{yyyy} {HH}:{MM}"."""
    local = moment.astimezone(VIETNAM)
    return pattern.format(
        weekday=_WEEKDAYS[local.weekday()],
        dd=f"{local.day:02d}",
        d=local.day,
        mm=f"{local.month:02d}",
        m=local.month,
        yyyy=local.year,
        HH=f"{local.hour:02d}",
        MM=f"{local.minute:02d}",
    )


@dataclass
class Article:
    """One article as the site serves it; ``path`` is where it lives, ``link`` where others point."""

    id: str
    title: str
    published: datetime
    modified: datetime
    path: str
    link: str
    section: str = ""
    author: str = ""
    summary: str = ""
    paragraphs: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    meta: list[str] = field(default_factory=list)
    dateline: str = ""
    encoding: str = "utf-8"
    declared_charset: str | None = None
    boilerplate_before: list[str] = field(default_factory=list)
    boilerplate_after: list[str] = field(default_factory=list)
    channels: tuple[str, ...] = CHANNELS

    def searchable_text(self) -> str:
        """What the site search looks in (it folds the words itself)."""
        return " ".join([self.title, self.summary, *self.paragraphs])


@dataclass
class Site:
    """One served site: its options (from ``site.toml``) and its articles, newest first."""

    name: str
    title: str
    directory: Path | None
    options: dict[str, Any]
    source: dict[str, Any]
    routes: list[dict[str, Any]]
    articles: list[Article]

    def section(self, key: str) -> dict[str, Any]:
        """One optional table of ``site.toml`` (``feeds``, ``sitemap``, ``listing``...), empty if absent."""
        value = self.options.get(key)
        return value if isinstance(value, dict) else {}

    def sort(self) -> None:
        self.articles.sort(key=lambda article: (article.published, article.id), reverse=True)

    def in_channel(self, channel: str) -> list[Article]:
        return [article for article in self.articles if channel in article.channels]

    def last_modified(self, articles: list[Article] | None = None) -> datetime:
        chosen = self.articles if articles is None else articles
        return max((a.modified for a in chosen), default=datetime(2000, 1, 1, tzinfo=VIETNAM))


_ARTICLE_KEYS = {
    "id",
    "slug",
    "title",
    "published",
    "updated",
    "section",
    "section_slug",
    "author",
    "summary",
    "paragraphs",
    "captions",
    "tags",
    "meta",
    "dateline",
    "encoding",
    "declared_charset",
    "path",
    "link",
    "boilerplate_before",
    "boilerplate_after",
    "in",
    "not_in",
}


def build_article(data: dict[str, Any], options: dict[str, Any], now: datetime, origin: str) -> Article:
    """Turn one article table into an :class:`Article`, filling in the site's defaults."""
    unknown = set(data) - _ARTICLE_KEYS
    if unknown:
        raise ContentError(f"{origin}: unknown article key(s) {sorted(unknown)}")
    for required in ("id", "title", "published"):
        if required not in data:
            raise ContentError(f"{origin}: article without {required!r}")
    article_id = str(data["id"])
    try:
        published = parse_when(data["published"], now)
        modified = parse_when(data["updated"], now) if "updated" in data else published
    except ContentError as exc:
        raise ContentError(f"{origin}: article {article_id}: {exc}") from None
    section = str(data.get("section", options.get("default_section", "")))
    slug = data.get("slug") or slugify(data["title"])
    pattern = options.get("article_path", "/{section}/{slug}-{id}.html")
    path = data.get("path") or pattern.format(
        section=data.get("section_slug") or slugify(section) or "tin-tuc", slug=slug, id=article_id
    )
    channels = tuple(data.get("in", CHANNELS))
    channels = tuple(c for c in channels if c not in data.get("not_in", ()))
    bad = set(channels) - set(CHANNELS)
    if bad:
        raise ContentError(f"{origin}: article {article_id}: unknown channel(s) {sorted(bad)}")
    boilerplate = options.get("boilerplate", {})
    dateline_pattern = options.get("dateline", "{weekday}, {dd}/{mm}/{yyyy} {HH}:{MM}")
    return Article(
        id=article_id,
        title=data["title"],
        published=published,
        modified=modified,
        path=path,
        link=data.get("link", path),
        section=section,
        author=data.get("author", ""),
        summary=data.get("summary", ""),
        paragraphs=list(data.get("paragraphs", [])),
        captions=list(data.get("captions", [])),
        tags=list(data.get("tags", [])),
        meta=list(data.get("meta", options.get("meta", ["jsonld", "opengraph", "time"]))),
        dateline=vietnamese_dateline(published, data.get("dateline", dateline_pattern)),
        encoding=data.get("encoding", "utf-8"),
        declared_charset=data.get("declared_charset"),
        boilerplate_before=list(data.get("boilerplate_before", boilerplate.get("before", []))),
        boilerplate_after=list(data.get("boilerplate_after", boilerplate.get("after", []))),
        channels=channels,
    )


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"{path}: not valid TOML ({exc})") from None


def load_site(directory: Path, now: datetime) -> Site:
    """Read one site directory: ``site.toml`` plus ``articles.toml`` and/or ``articles/*.toml``."""
    options = _load_toml(directory / "site.toml")
    name = options.get("name", directory.name)
    files = [directory / "articles.toml"] if (directory / "articles.toml").exists() else []
    files += sorted((directory / "articles").glob("*.toml")) if (directory / "articles").is_dir() else []
    articles: list[Article] = []
    for path in files:
        data = _load_toml(path)
        tables = data.get("articles", [data] if "id" in data else [])
        articles += [build_article(table, options, now, str(path)) for table in tables]
    ids = [a.id for a in articles]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ContentError(f"{directory}: article id repeated: {', '.join(repeated)}")
    site = Site(
        name=name,
        title=options.get("title", name),
        directory=directory,
        options=options,
        source=dict(options.get("source", {})),
        routes=list(options.get("routes", [])),
        articles=articles,
    )
    site.sort()
    return site
