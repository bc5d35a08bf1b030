"""``qpan extract FILE --url URL``: extraction, cleaning and relevance on one saved page; no database.

The page goes through the same code as a crawled one (``extract_article`` with the
registry's selectors for that site, then the clean and relevance stages), so this is how
a user checks a source's selectors or finds out why an article was or was not relevant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qpan.context import AppContext
from qpan.errors import UserError
from qpan.output import item_json, print_json


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
    from qpan.crawler.extraction import extract_article
    from qpan.crawler.registry import all_sources, host_allowed, source_domains
    from qpan.crawler.urls import domain_of
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
    item = extract_article(
        body,
        url,
        source=chosen.name if chosen else domain_of(url),
        declared_encoding=encoding,
        selectors=chosen.selectors if chosen else None,
    )
    try:
        item = Chain(app.config).process(item)
    except Dropped as exc:
        raise UserError(f"{file}: no article kept ({exc.category}: {exc.detail})") from None
    print_json(item_json(item))


def register(app: typer.Typer) -> None:
    app.command("extract", short_help='Extract one saved page; print the article JSON.')(extract)
