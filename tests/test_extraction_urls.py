"""URL canonicalisation and registrable domains."""

from __future__ import annotations

import pytest

from qpan.crawler.urls import canonicalize_url, domain_of, is_http_url


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://m.vnexpress.net/x-123.html", "https://vnexpress.net/x-123.html"),
        ("HTTPS://VnExpress.NET:443/thoi-su/x-123.html", "https://vnexpress.net/thoi-su/x-123.html"),
        ("http://cand.com.vn:80/a-i1/", "http://cand.com.vn/a-i1"),
        ("https://tuoitre.vn/a.htm?utm_source=fb&utm_medium=social&fbclid=IwAR0", "https://tuoitre.vn/a.htm"),
        ("https://tuoitre.vn/a.htm?zarsrc=30&gidzl=abc&zaloid=1&gclid=x", "https://tuoitre.vn/a.htm"),
        ("https://x.vn/search?q=ngh%E1%BB%8B&page=2&a=1", "https://x.vn/search?a=1&page=2&q=ngh%E1%BB%8B"),
        ("https://dantri.com.vn/a-1.htm#comments", "https://dantri.com.vn/a-1.htm"),
        ("https://amp.dantri.com.vn/a-1.htm", "https://dantri.com.vn/a-1.htm"),
        ("https://thanhnien.vn/a-1.htm?amp", "https://thanhnien.vn/a-1.htm"),
        ("https://vietnamplus.vn/a-post1.vnp/amp/", "https://vietnamplus.vn/a-post1.vnp"),
        ("https://baotintuc.vn/amp/thoi-su/a-1.htm", "https://baotintuc.vn/thoi-su/a-1.htm"),
        ("https://qdnd.vn/a-1.amp", "https://qdnd.vn/a-1"),
        ("https://x.vn/a-1.amp.html", "https://x.vn/a-1.html"),
        ("https://x.vn/", "https://x.vn/"),
        ("https://x.vn", "https://x.vn/"),
        ("https://x.vn//a///b/", "https://x.vn/a/b"),
        ("http://127.0.0.1:8765/tin/a-1.html?utm_campaign=x", "http://127.0.0.1:8765/tin/a-1.html"),
        ("https://x.vn/đường-bộ-1.html", "https://x.vn/%C4%91%C6%B0%E1%BB%9Dng-b%E1%BB%99-1.html"),
    ],
)
def test_canonicalize_url(url: str, canonical: str) -> None:
    assert canonicalize_url(url) == canonical


def test_canonical_form_is_stable() -> None:
    once = canonicalize_url("https://M.TuoiTre.vn/a/b/?b=2&a=1&utm_term=z#x")
    assert canonicalize_url(once) == once


def test_real_parameters_and_short_hosts_are_kept() -> None:
    assert canonicalize_url("https://x.vn/a?id=5&page=2") == "https://x.vn/a?id=5&page=2"
    assert canonicalize_url("https://m.vn/a") == "https://m.vn/a"
    assert canonicalize_url("mailto:toa-soan@x.vn") == "mailto:toa-soan@x.vn"


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://cand.com.vn/a", "cand.com.vn"),
        ("https://www.baobackan.org.vn/channel/1", "baobackan.org.vn"),
        ("https://m.vnexpress.net/x", "vnexpress.net"),
        ("https://bocongan.gov.vn/", "bocongan.gov.vn"),
        ("http://127.0.0.1:8765/x", "127.0.0.1"),
        ("localhost", "localhost"),
    ],
)
def test_domain_of(url: str, domain: str) -> None:
    assert domain_of(url) == domain


def test_is_http_url() -> None:
    assert is_http_url("https://x.vn/a")
    assert not is_http_url("/relative/path")
    assert not is_http_url("javascript:void(0)")
