"""Turn a :class:`~qpan.demo.content.Site` into bytes: HTML pages, feeds, sitemaps, robots.txt.

Pages come from ``string.Template`` files (the package's ``templates/`` or the site's own
``templates/`` directory), feeds and sitemaps are built with ElementTree so that escaping
is always right. Every function takes the site's base URL because ports are chosen at start.
"""

from __future__ import annotations

import gzip
import html
import json
import unicodedata
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from string import Template
from xml.etree import ElementTree as ET

from qpan.demo.content import Article, Site

TEMPLATES = Path(__file__).with_name("templates")
_ATOM = "http://www.w3.org/2005/Atom"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RSS1 = "http://purl.org/rss/1.0/"
_DC = "http://purl.org/dc/elements/1.1/"
_SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
_NEWS = "http://www.google.com/schemas/sitemap-news/0.9"


def _template(site: Site, name: str) -> Template:
    own = site.directory / "templates" / name if site.directory else None
    path = own if own is not None and own.exists() else TEMPLATES / name
    return Template(path.read_text(encoding="utf-8"))


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _menu(site: Site, base: str) -> str:
    links = [f'<a href="{base}/">Trang chủ</a>']
    listing = site.section("listing")
    if listing:
        links.append(f'<a href="{base}{listing["path"]}">{_esc(listing.get("title", "Tin mới"))}</a>')
    return " ".join(links)


def _search_path(site: Site) -> str:
    return site.section("search").get("path", "/tim-kiem")


def encode_text(text: str, encoding: str) -> bytes:
    """Encode, decomposing tone marks where the legacy code page has no precomposed letter.

    windows-1258 holds â/ê/ô/ơ/ư/ă/đ but writes tones as combining marks; a real
    cp1258 page therefore carries "ô" + U+0323 for "ộ", which is what this produces.
    """
    out: list[str] = []
    for char in text:
        try:
            char.encode(encoding)
            out.append(char)
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", char)
        for mark in list(marks):
            combined = unicodedata.normalize("NFC", base + mark)
            if len(combined) == 1 and _encodable(combined, encoding):
                base = combined
                marks.remove(mark)
                break
        out.append(base + "".join(marks))
    return "".join(out).encode(encoding, errors="xmlcharrefreplace")


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _head_meta(site: Site, article: Article, base: str) -> str:
    url = base + article.path
    parts: list[str] = []
    if "canonical" in article.meta or "jsonld" in article.meta or "opengraph" in article.meta:
        parts.append(f'<link rel="canonical" href="{_esc(url)}">')
    if "opengraph" in article.meta:
        parts += [
            '<meta property="og:type" content="article">',
            f'<meta property="og:title" content="{_esc(article.title)}">',
            f'<meta property="og:url" content="{_esc(url)}">',
            f'<meta property="og:description" content="{_esc(article.summary)}">',
            f'<meta property="og:site_name" content="{_esc(site.title)}">',
            f'<meta property="article:published_time" content="{article.published.isoformat()}">',
            f'<meta property="article:modified_time" content="{article.modified.isoformat()}">',
            f'<meta property="article:section" content="{_esc(article.section)}">',
        ]
    if "jsonld" in article.meta:
        data = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "mainEntityOfPage": {"@type": "WebPage", "@id": url},
            "headline": article.title,
            "description": article.summary,
            "datePublished": article.published.isoformat(),
            "dateModified": article.modified.isoformat(),
            "articleSection": article.section,
            "author": {"@type": "Person", "name": article.author} if article.author else None,
            "publisher": {"@type": "Organization", "name": site.title},
            "inLanguage": "vi",
        }
        payload = json.dumps({k: v for k, v in data.items() if v}, ensure_ascii=False, indent=1)
        safe = payload.replace("</", "<\\/")
        parts.append(f'<script type="application/ld+json">{safe}</script>')
    return "\n".join(parts) + "\n"


def _body(article: Article) -> str:
    blocks = [f"<p>{_esc(text)}</p>" for text in article.boilerplate_before]
    captions = list(article.captions)
    for index, paragraph in enumerate(article.paragraphs):
        blocks.append(f"<p>{_esc(paragraph)}</p>")
        if captions and (index == 0 or index % 3 == 2):
            caption = captions.pop(0)
            blocks.append(
                f'<figure class="image"><img src="/images/{article.id}-{index}.jpg" alt="">'
                f"<figcaption>{_esc(caption)}</figcaption></figure>"
            )
    blocks += [f"<p>{_esc(text)}</p>" for text in article.boilerplate_after]
    return "\n".join("      " + block for block in blocks)


def article_page(site: Site, article: Article, base: str) -> tuple[str, bytes]:
    """The article's HTML and its Content-Type, in the article's (maybe legacy) encoding."""
    declared = article.encoding if article.declared_charset is None else article.declared_charset
    related = [a for a in site.articles if a.id != article.id][:3]
    time_tag = f'<time datetime="{article.published.isoformat()}"></time>' if "time" in article.meta else ""
    author = f'<span class="author">{_esc(article.author)}</span>' if article.author else ""
    tags = "".join(f'<a class="tag" href="#">{_esc(t)}</a>' for t in article.tags)
    text = _template(site, site.options.get("article_template", "article.html")).substitute(
        charset_meta=f'<meta charset="{declared}">\n' if declared else "",
        title=_esc(article.title),
        site_title=_esc(site.title),
        head_meta=_head_meta(site, article, base),
        base=base,
        menu=_menu(site, base),
        search_path=_search_path(site),
        section=_esc(article.section),
        dateline=_esc(article.dateline),
        time_tag=time_tag,
        author_html=author,
        summary=_esc(article.summary),
        body=_body(article),
        tags_html=f'<div class="tags">Từ khóa: {tags}</div>' if tags else "",
        related="".join(f'<li><a href="{base}{a.link}">{_esc(a.title)}</a></li>' for a in related),
    )
    content_type = f"text/html; charset={declared}" if declared else "text/html"
    return content_type, encode_text(text, article.encoding)


def _teaser(article: Article, base: str) -> str:
    return (
        f'    <div class="story"><h3><a href="{base}{article.link}">{_esc(article.title)}</a></h3>'
        f'<p class="sapo">{_esc(article.summary)}</p></div>'
    )


def list_page(
    site: Site, base: str, heading: str, articles: list[Article], pagination: str = "", query: str = ""
) -> bytes:
    """A listing, search-results or home page linking to ``articles``."""
    head = "".join(
        f'<link rel="alternate" type="{kind}" title="{_esc(site.title)}" href="{base}{path}">\n'
        for kind, path in _feed_links(site)
    )
    text = _template(site, "page.html").substitute(
        heading=_esc(heading),
        site_title=_esc(site.title),
        head_meta=head if heading == site.title else "",
        base=base,
        menu=_menu(site, base),
        search_path=_search_path(site),
        query=_esc(query),
        items="\n".join(_teaser(a, base) for a in articles) or "    <p>Không tìm thấy kết quả.</p>",
        pagination=pagination,
    )
    return text.encode("utf-8")


def _feed_links(site: Site) -> list[tuple[str, str]]:
    feeds = site.section("feeds")
    kinds = {"rss": "application/rss+xml", "atom": "application/atom+xml", "rdf": "application/rdf+xml"}
    return [(kinds[key], feeds[key]) for key in ("rss", "atom", "rdf") if key in feeds]


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


def _xml(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def rss(site: Site, base: str, articles: list[Article], title: str | None = None) -> bytes:
    root = ET.Element("rss", version="2.0")
    channel = _sub(root, "channel")
    _sub(channel, "title", title or site.title)
    _sub(channel, "link", base + "/")
    _sub(channel, "description", f"Tin mới nhất - {site.title}")
    _sub(channel, "language", "vi")
    _sub(channel, "lastBuildDate", format_datetime(site.last_modified(articles)))
    for article in articles:
        item = _sub(channel, "item")
        _sub(item, "title", article.title)
        _sub(item, "link", base + article.link)
        _sub(item, "guid", base + article.link, isPermaLink="true")
        _sub(item, "pubDate", format_datetime(article.published))
        _sub(item, "description", article.summary)
        if article.section:
            _sub(item, "category", article.section)
    return _xml(root)


def atom(site: Site, base: str, articles: list[Article], self_path: str) -> bytes:
    ET.register_namespace("", _ATOM)
    root = ET.Element(f"{{{_ATOM}}}feed")
    _sub(root, f"{{{_ATOM}}}title", site.title)
    _sub(root, f"{{{_ATOM}}}id", base + "/")
    _sub(root, f"{{{_ATOM}}}updated", site.last_modified(articles).isoformat())
    _sub(root, f"{{{_ATOM}}}link", href=base + self_path, rel="self")
    _sub(root, f"{{{_ATOM}}}link", href=base + "/", rel="alternate")
    for article in articles:
        entry = _sub(root, f"{{{_ATOM}}}entry")
        _sub(entry, f"{{{_ATOM}}}title", article.title)
        _sub(entry, f"{{{_ATOM}}}link", href=base + article.link, rel="alternate")
        _sub(entry, f"{{{_ATOM}}}id", f"tag:{site.name},{article.published:%Y-%m-%d}:{article.id}")
        _sub(entry, f"{{{_ATOM}}}published", article.published.isoformat())
        _sub(entry, f"{{{_ATOM}}}updated", article.modified.isoformat())
        _sub(entry, f"{{{_ATOM}}}summary", article.summary)
        if article.author:
            _sub(_sub(entry, f"{{{_ATOM}}}author"), f"{{{_ATOM}}}name", article.author)
    return _xml(root)


def rdf(site: Site, base: str, articles: list[Article]) -> bytes:
    for prefix, uri in (("rdf", _RDF), ("", _RSS1), ("dc", _DC)):
        ET.register_namespace(prefix, uri)
    root = ET.Element(f"{{{_RDF}}}RDF")
    channel = _sub(root, f"{{{_RSS1}}}channel", **{f"{{{_RDF}}}about": base + "/"})
    _sub(channel, f"{{{_RSS1}}}title", site.title)
    _sub(channel, f"{{{_RSS1}}}link", base + "/")
    _sub(channel, f"{{{_RSS1}}}description", f"Tin mới nhất - {site.title}")
    seq = _sub(_sub(channel, f"{{{_RSS1}}}items"), f"{{{_RDF}}}Seq")
    for article in articles:
        _sub(seq, f"{{{_RDF}}}li", **{f"{{{_RDF}}}resource": base + article.link})
    for article in articles:
        item = _sub(root, f"{{{_RSS1}}}item", **{f"{{{_RDF}}}about": base + article.link})
        _sub(item, f"{{{_RSS1}}}title", article.title)
        _sub(item, f"{{{_RSS1}}}link", base + article.link)
        _sub(item, f"{{{_RSS1}}}description", article.summary)
        _sub(item, f"{{{_DC}}}date", article.published.isoformat())
        if article.section:
            _sub(item, f"{{{_DC}}}subject", article.section)
    return _xml(root)


def urlset(site: Site, base: str, articles: list[Article], news: bool) -> bytes:
    ET.register_namespace("", _SITEMAP)
    ET.register_namespace("news", _NEWS)
    root = ET.Element(f"{{{_SITEMAP}}}urlset")
    for article in articles:
        url = _sub(root, f"{{{_SITEMAP}}}url")
        _sub(url, f"{{{_SITEMAP}}}loc", base + article.link)
        _sub(url, f"{{{_SITEMAP}}}lastmod", article.modified.isoformat())
        if news:
            block = _sub(url, f"{{{_NEWS}}}news")
            publication = _sub(block, f"{{{_NEWS}}}publication")
            _sub(publication, f"{{{_NEWS}}}name", site.title)
            _sub(publication, f"{{{_NEWS}}}language", "vi")
            _sub(block, f"{{{_NEWS}}}publication_date", article.published.isoformat())
            _sub(block, f"{{{_NEWS}}}title", article.title)
    return _xml(root)


def sitemap_index(base: str, children: list[tuple[str, datetime]]) -> bytes:
    ET.register_namespace("", _SITEMAP)
    root = ET.Element(f"{{{_SITEMAP}}}sitemapindex")
    for path, lastmod in children:
        child = _sub(root, f"{{{_SITEMAP}}}sitemap")
        _sub(child, f"{{{_SITEMAP}}}loc", base + path)
        _sub(child, f"{{{_SITEMAP}}}lastmod", lastmod.isoformat())
    return _xml(root)


def gzipped(data: bytes) -> bytes:
    """Deterministic gzip (mtime 0) so the ETag of an unchanged sitemap stays the same."""
    return gzip.compress(data, mtime=0)


def robots(site: Site, base: str, sitemap_paths: list[str]) -> bytes:
    options = site.section("robots")
    lines = ["User-agent: *"]
    lines += [f"Disallow: {path}" for path in options.get("disallow", [])] or ["Disallow:"]
    lines.append("")
    if options.get("sitemaps", True):
        lines += [f"Sitemap: {base}{path}" for path in sitemap_paths]
    return ("\n".join(lines) + "\n").encode("utf-8")
