"""``qpan extract FILE --url URL``: extraction, cleaning and relevance on one saved page; no database.

The page goes through the same code as a crawled one (``extract_article`` with the
registry's selectors for that site, then the clean and relevance stages), so this is how
a user checks a source's selectors or finds out why an article was or was not relevant.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qpan.context import AppContext
from qpan.errors import UserError
from qpan.output import item_json, print_json

if TYPE_CHECKING:
    from qpan.config import Config, SourceConfig
    from qpan.items import ArticleItem
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
    file: Annotated[Path | None, typer.Argument(metavar="[FILE]", help="A saved HTML page.")] = None,
    url: Annotated[
        str | None, typer.Option("--url", metavar="URL", help="The URL the saved page was fetched from.")
    ] = None,
    fetch: Annotated[
        str | None, typer.Option("--fetch", metavar="URL", help="Fetch this live page instead of reading FILE.")
    ] = None,
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
    """Run extraction + cleaning + relevance on one page (saved, or --fetch URL) and print the article JSON.

    Example: qpan extract page.html --url https://baobackan.org.vn/...; qpan extract --fetch https://qdnd.vn/...
    """
    from qpan.crawler.registry import all_sources, host_allowed, source_domains
    from qpan.pipelines.chain import Chain
    from qpan.pipelines.drops import Dropped

    app: AppContext = ctx.obj
    if fetch is not None and file is None:
        body, url, fetched_encoding = fetch_page(fetch, app.config)
        encoding, where = encoding or fetched_encoding, url
    elif file is not None and url is not None and fetch is None:
        try:
            body = file.read_bytes()
        except OSError as exc:
            raise UserError(f"cannot read {file}: {exc.strerror or exc}") from None
        where = str(file)
    else:
        raise typer.BadParameter("give FILE --url URL (a saved page) or --fetch URL (a live page)")
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
        raise UserError(f"{where}: no article kept ({exc.category}: {exc.detail})") from None
    print_json(item_json(item))


def fetch_page(url: str, config: Config) -> tuple[bytes, str, str | None]:
    """One GET as the crawler would make it (its User-Agent, timeout and size limit), without Scrapy.

    Returns the body, the final URL after redirects, and the charset the server declared.
    """
    import urllib.error
    import urllib.request

    from qpan.crawler.addon import user_agent

    crawl = config.crawl
    request = urllib.request.Request(url, headers={"User-Agent": user_agent(config)})
    try:
        with urllib.request.urlopen(request, timeout=crawl.download_timeout) as response:  # noqa: S310 - http(s) only
            body = response.read(crawl.max_page_bytes + 1)
            final, charset = response.geturl(), response.headers.get_content_charset()
    except urllib.error.HTTPError as exc:
        raise UserError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UserError(f"{url}: could not be fetched ({reason})") from None
    if len(body) > crawl.max_page_bytes:
        raise UserError(f"{url}: larger than crawl.max_page_bytes ({crawl.max_page_bytes})")
    return body, final, charset


def register(app: typer.Typer) -> None:
    app.command("extract", short_help="Extract one saved or fetched page; print the article JSON.")(extract)
