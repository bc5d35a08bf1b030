"""The meta-refresh prefilter (``crawler/middlewares/metarefresh.py``) lets through every page
Scrapy's middleware could redirect, whatever the case or encoding of the tag; the crawl itself is
``test_crawler_realshapes.test_a_meta_refresh_page_leads_to_the_article``."""

from __future__ import annotations

import pytest

from qpan.crawler.middlewares.metarefresh import cannot_refresh

TAG = '<meta http-equiv="refresh" content="0; url=/moi.html">'


@pytest.mark.parametrize(
    "page",
    [
        f"<html><head>{TAG}</head></html>",
        f"<html><head>{TAG.upper()}</head></html>",
        f"<html><head><title>{'Tiêu đề ' * 300}</title>{TAG}</head></html>",  # 3,000 characters, 4,800 bytes
    ],
)
def test_a_page_with_a_refresh_tag_goes_to_scrapy(page: str) -> None:
    assert not cannot_refresh(page.encode("utf-8"))


def test_a_utf16_page_always_goes_to_scrapy() -> None:
    assert not cannot_refresh(f"<html><head>{TAG}</head></html>".encode("utf-16"))
    assert not cannot_refresh("<html><body>Tin tức</body></html>".encode("utf-16-le"))


def test_an_article_without_the_word_is_let_through() -> None:
    assert cannot_refresh("<html><head><title>Hội nghị</title></head><body><p>Tin</p></body></html>".encode())
    # beyond what Scrapy reads, the word changes nothing
    assert cannot_refresh(b"<html>" + b" " * 20_000 + TAG.encode() + b"</html>")
