"""ItemLoader for articles: every extraction method's raw values pass the same processors.

Input processors turn whatever a method found (a selector's HTML, a JSON-LD string, a
date line) into the field's clean value or drop it (None), so extract_article can offer
candidates method by method and keep the first one that survives. Output processors
take the first survivor. Context keys: ``url`` (page URL), ``site_name``, ``reference``
(date used for year-less date lines).

ArticleLoader is where the processors are declared; extract_article runs them through
``process_input`` and ``output_value`` rather than through a loader instance: a loader pass
(add_value with its processor lookups, get_collected_values, get_output_value, load_item)
per field and method cost more than the processors themselves, for one value per field.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

from itemloaders.common import wrap_loader_context
from itemloaders.processors import Identity, MapCompose, TakeFirst
from itemloaders.utils import arg_to_iter
from scrapy.loader import ItemLoader
from w3lib.html import remove_tags, replace_entities

from qpan.crawler.extraction.dates import parse_date
from qpan.crawler.urls import canonicalize_url, domain_of, is_http_url
from qpan.items import ArticleItem
from qpan.pipelines.normalize import clean_label, fold

_TITLE_SEPARATORS = re.compile(r"\s+[-|–—:»]\s+")
_SITE_WORDS = re.compile(
    r"^(?:báo(?!\s+cáo)|tạp chí|trang tin|cổng thông tin|kênh|đài)\b|\.(?:vn|net|com|org)\b|online|điện tử", re.I
)
_MAX_SUFFIX_WORDS = 6
_MIN_LABEL_CHARS = 5
_MAX_AUTHOR_CHARS = 80
_CREDIT_PREFIX = re.compile(
    r"^(?:(?:bài|tin|ảnh|video)(?:\s*(?:và|,|/)\s*(?:ảnh|video))?|theo|tác giả|nguồn)\s*:\s*", re.I
)
_AUTHOR_NOTE = re.compile(r"\s*\([^()]*\)$")
_NOT_A_NAME = re.compile(r"[/@]|\.(?:vn|com|net|org)\b", re.I)
_LANGUAGE = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]+)*$", re.I)


def text_of(value: str) -> str | None:
    """Markup-free, NFC, whitespace-folded text without control or bidi-override characters; None when empty."""
    if "<" in value:
        value = remove_tags(value)
    value = " ".join(clean_label(replace_entities(value)).split())
    return unicodedata.normalize("NFC", value) or None


@lru_cache(maxsize=1024)
def _netloc_domain(netloc: str) -> str:
    """Registrable domain of a URL's netloc; cached, a crawl sees a few dozen hosts and the
    public-suffix lookup costs more than the rest of the canonical-URL check."""
    return domain_of(f"//{netloc}")


def _domain(url: str) -> str:
    return _netloc_domain(urlsplit(url if "//" in url else f"//{url}").netloc)


def _squash(text: str) -> str:
    return fold(text).replace(" ", "")


def _names_site(part: str, site_name: str, label: str) -> bool:
    if len(part.split()) > _MAX_SUFFIX_WORDS:
        return False
    squashed = _squash(part)
    if site_name and _squash(site_name) in (squashed, squashed.removesuffix("online")):
        return True
    return (len(label) >= _MIN_LABEL_CHARS and label in squashed) or bool(_SITE_WORDS.search(part))


def strip_site_name(title: str, loader_context: dict[str, Any]) -> str | None:
    """ "Tiêu đề - Báo Công an Nhân dân" and "Báo Bắc Kạn - Tiêu đề" -> "Tiêu đề"."""
    separators = list(_TITLE_SEPARATORS.finditer(title))
    if not separators:
        return title
    site_name = loader_context.get("site_name") or ""
    label = _domain(loader_context.get("url") or "").split(".")[0]
    start, end = 0, len(title)
    if _names_site(title[separators[-1].end() :], site_name, label):
        end = separators[-1].start()
    elif _names_site(title[: separators[0].start()], site_name, label):
        start = separators[0].end()
    return title[start:end].strip() or None


def sane_author(author: str, loader_context: dict[str, Any]) -> str | None:
    """An author is a short name, not a profile URL or the site's own name.

    The site's name counts in any of its spellings (og:site_name, the domain's label:
    vnexpress's JSON-LD author is the Organization "VnExpress" while the reporter signs
    the story), so the byline further down the page gets its turn. A note after the name
    ("Hà Thu (tổng hợp)", "(theo Reuters)") is not part of it.
    """
    if len(author) > _MAX_AUTHOR_CHARS or is_http_url(author) or _NOT_A_NAME.search(author):
        return None
    label = _domain(loader_context.get("url") or "").split(".")[0]
    if _names_site(author, loader_context.get("site_name") or "", label):
        return None
    name = _AUTHOR_NOTE.sub("", _CREDIT_PREFIX.sub("", author))
    return name.strip(" -–—,.:()") or None


def date_value(value: str, loader_context: dict[str, Any]) -> Any:
    return parse_date(value, reference=loader_context.get("reference"))


def absolute_canonical(value: str, loader_context: dict[str, Any]) -> str | None:
    """The canonicalised absolute URL, only when it is a sane stand-in for the page URL.

    Rejected: non-http schemes, another site (a canonical is not a redirect), and the
    site's home page for an inner page (a CMS default that would merge every article).
    """
    page = loader_context.get("url") or ""
    candidate = urljoin(page, value.strip())
    if not is_http_url(candidate):
        return None
    if page and _domain(candidate) != _domain(page):
        return None
    if page and urlsplit(candidate).path in ("", "/") and urlsplit(page).path not in ("", "/"):
        return None
    return canonicalize_url(candidate)


def language_code(value: str) -> str | None:
    match = _LANGUAGE.match(value.strip())
    return match.group(1).lower() if match else None


class ArticleLoader(ItemLoader):
    """Loads ArticleItem fields; see the module docstring for the context it expects."""

    default_item_class = ArticleItem
    default_input_processor = Identity()
    default_output_processor = TakeFirst()

    title_in = MapCompose(text_of, strip_site_name)
    author_in = MapCompose(text_of, sane_author)
    section_in = MapCompose(text_of)
    published_in = MapCompose(text_of, date_value)
    canonical_url_in = MapCompose(absolute_canonical)
    language_in = MapCompose(language_code)
    body_html_in = MapCompose(str.strip)


# The declared processors, looked up once (a loader looks them up on every add_value).
_INPUT_PROCESSORS: dict[str, Callable[..., list[Any]]] = {
    field: getattr(ArticleLoader, f"{field}_in", ArticleLoader.default_input_processor) for field in ArticleItem.fields
}


def process_input(field: str, values: Any, context: Mapping[str, Any]) -> list[Any]:
    """``values`` through ``field``'s input processor as ArticleLoader declares it: what
    ``add_value`` would collect (an empty list when every value was rejected)."""
    processor = wrap_loader_context(_INPUT_PROCESSORS[field], context)
    return list(arg_to_iter(processor(arg_to_iter(values))))


def output_value(values: list[Any]) -> Any:
    """The collected values through ArticleLoader's output processor (the first non-empty one)."""
    return ArticleLoader.default_output_processor(values)
