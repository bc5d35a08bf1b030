"""``qpan extract FILE --url URL``: extraction, cleaning and relevance on one saved page; no database.

The page goes through the same code as a crawled one (``extract_article`` with the
registry's selectors for that site, then the clean and relevance stages), so this is how
a user checks a source's selectors or finds out why an article was or was not relevant.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qpan.config import SourceConfig
from qpan.context import AppContext
from qpan.errors import UserError
from qpan.items import ArticleItem
from qpan.output import item_json, print_json

if TYPE_CHECKING:
    from qpan.pipelines.chain import Chain


def extract_page(chain: Chain, body: bytes, url: str, source: SourceConfig | None, encoding: str | None) -> ArticleItem:
    """One page through extraction (the source's selectors) and ``chain``; raises ``Dropped``.

    The same path as a crawled page: ``qpan extract`` and ``qpan sources --check`` both use it.
    """
    from qpan.crawler.extraction import extract_article
    from qpan.crawler.urls import article_canonical, domain_of

    item = extract_article(
        body,
        url,
        source=source.name if source else domain_of(url),
        declared_encoding=encoding,
        selectors=source.selectors if source else None,
    )
    if source is not None:
        item["canonical_url"] = article_canonical(item["canonical_url"], url, source.keep_query)
    return chain.process(item)


def extract(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A saved HTML page.")],
    url: Annotated[str, typer.Option("--url", metavar="URL", help="The URL the page was fetched from.")],
    source: Annotated[
        str | None,
        typer.Option(
            "--source", "-s", metavar="NAME", help="Use this source's selectors (default: by the URL's host)."
        ),
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", metavar="CHARSET", help="The charset the server declared, if known.")
    ] = None,
) -> None:
    """Run extraction + cleaning + relevance on one saved page and print the article JSON."""
    from qpan.crawler.registry import all_sources, host_allowed, source_domains
    from qpan.pipelines.chain import Chain
    from qpan.pipelines.drops import Dropped

    app: AppContext = ctx.obj
    try:
        body = file.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {file}: {exc.strerror or exc}") from None
    sources = all_sources(app.config)
    if source is not None:
        matching = [s for s in sources if s.name == source]
        if not matching:
            raise UserError(f"unknown source {source!r}; see `qpan sources`")
    else:
        matching = [s for s in sources if host_allowed(url, source_domains(s))]
    chosen = matching[0] if matching else None
    try:
        item = extract_page(Chain(app.config), body, url, chosen, encoding)
    except Dropped as exc:
        raise UserError(f"{file}: no article kept ({exc.category}: {exc.detail})") from None
    print_json(item_json(item))


def register(app: typer.Typer) -> None:
    app.command("extract")(extract)
