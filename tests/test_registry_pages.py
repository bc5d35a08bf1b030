"""Selectors are data, and data needs a page to be checked against (Fundus' "Missing test HTML").

A registry source with ``[sources.selectors]`` must have a saved page in the repository: in
``tests/pages/<source name>/``, or anywhere under ``tests/pages/`` with a JSON whose
``input.url`` lies on the source's domains. Pages outside the repository (``../shared``) do
not count: CI does not have them.
"""

from __future__ import annotations

import json
from pathlib import Path

from qpan.config import SourceConfig
from qpan.crawler.registry import host_allowed, shipped_registry, source_domains
from support.pages import PAGES


def _page_urls(root: Path) -> list[str]:
    urls = []
    for html in root.glob("*/*.html"):
        sidecar = html.with_suffix(".json")
        if sidecar.exists():
            urls.append(json.loads(sidecar.read_text(encoding="utf-8")).get("input", {}).get("url", ""))
    return urls


def missing_pages(sources: list[SourceConfig], root: Path) -> list[str]:
    """Names of the sources with selectors but no saved page under ``root``."""
    urls = _page_urls(root)
    missing = []
    for source in sources:
        if source.selectors is None or any((root / source.name).glob("*.html")):
            continue
        domains = source_domains(source)
        if not any(host_allowed(url, domains) for url in urls):
            missing.append(source.name)
    return missing


def test_every_shipped_source_with_selectors_has_a_saved_page() -> None:
    missing = missing_pages(shipped_registry().sources, PAGES)
    assert missing == [], f"Missing test HTML: {', '.join(missing)} have [sources.selectors] but no page in {PAGES}"


def test_a_source_with_selectors_and_no_page_is_reported(tmp_path: Path) -> None:
    selectors = {"title": "h1.title::text", "body": "div.detail"}
    sources = [
        SourceConfig(name="withpage", domains=["a.vn"], selectors=selectors),
        SourceConfig(name="bydomain", domains=["b.vn"], selectors=selectors),
        SourceConfig(name="nopage", domains=["c.vn"], selectors=selectors),
        SourceConfig(name="generic", domains=["d.vn"]),
    ]
    (tmp_path / "withpage").mkdir()
    (tmp_path / "withpage" / "x.html").write_text("<h1>x</h1>", encoding="utf-8")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "y.html").write_text("<h1>y</h1>", encoding="utf-8")
    (tmp_path / "other" / "y.json").write_text(json.dumps({"input": {"url": "https://www.b.vn/y-1.html"}}))
    (tmp_path / "other" / "z.html").write_text("<h1>z</h1>", encoding="utf-8")
    (tmp_path / "other" / "z.json").write_text(json.dumps({"input": {"url": "https://notc.vn/z-1.html"}}))
    assert missing_pages(sources, tmp_path) == ["nopage"]
