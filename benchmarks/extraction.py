"""Extraction benchmark: our extract_article (+ the clean stage) against trafilatura.extract.

    python benchmarks/extraction.py [--repeat 30]

Same pages, same process, same run: every saved page in tests/pages, then a few big pages
built here by wrapping saved pages in the chrome of a real news site (mega menu, ticker,
most-read sidebar, related and same-section boxes with summaries, footer, inline scripts and
styles: 100-300 KiB, as on the big Vietnamese papers), then the real article pages in
../shared/realpages when present (timed the same way, and judged field by field against the
JSON beside each page as tests/test_realpages.py judges them: title, publication instant,
author, first and last ~80 characters of the stored text; trafilatura's fields come from
``bare_extraction`` with metadata and a date search asked for the time of day). CPU time
is time.process_time per call, the median of ``--repeat`` runs per page; the figures printed
are the median and the sum of those per-page medians. "+clean" is extract_article followed
by the pipeline's CleanStage (what a crawl runs per page). Accuracy on saved pages is
bag-of-words F1 of the stored text against the page's hand-written ``gold_text``.
trafilatura gets the raw bytes, as extract_article does, so both pay for decoding.

Last runs (2 cores shared with other work, load average 2-4; two rounds, each running the code
before the extraction/cleaning CPU round and then this code, so both see the same machine).
Saved pages: extract_article 0.41-0.42 ms/page, +cleaning 0.67-0.70 ms, trafilatura 1.96-2.07 ms;
ratio 0.20-0.21 extract only, 0.32-0.36 with cleaning (before: 0.66 and 1.12 ms in the quiet round,
ratio 0.33-0.34 and 0.55-0.58). Big pages: 0.17-0.18 extract only, 0.18-0.19 with cleaning
(before: 0.19-0.21 and 0.23-0.28). Token F1 vs gold: ours 0.999 (min 0.991) cleaned, 0.979 body
text; trafilatura 0.813 (min 0.127); the same stored text as before, to the byte.
Real article pages (10 pages of 8 sites, 65-496 KiB): extract_article 2.88-2.90 ms/page,
+cleaning 3.87-4.31 ms, trafilatura 15.9-16.0 ms; ratio 0.18 extract only, 0.24-0.27 with cleaning
(before: 3.18-3.40 and 4.78-5.44 ms, ratio 0.21-0.22 and 0.31-0.35). Pages right out of 10 (title,
date and time, author, first, last): qpan 10, 10, 10, 10, 10; trafilatura's bare_extraction 10, 8,
0, 3, 6 (it gives "Baochinhphu Vn" or "Dương Ngọc; VCCorp vn" as authors, misses leads and keeps
related links).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # its `support` package

import trafilatura  # noqa: E402

from qpan.crawler.extraction import extract_article  # noqa: E402
from qpan.crawler.extraction.dates import parse_date  # noqa: E402
from qpan.crawler.extraction.generic import body_text  # noqa: E402
from qpan.pipelines.drops import Dropped  # noqa: E402
from qpan.pipelines.normalize import normalize_text  # noqa: E402
from qpan.pipelines.stages.clean import CleanStage  # noqa: E402
from qpan.timezone import VIETNAM  # noqa: E402
from support.pages import REALPAGES, page_cases, token_f1  # noqa: E402

BIG_PAGE_BASES = ("vnexpress/jsonld_newsarticle", "tuoitre/jsonld_graph", "cand/dateline_only")
BIG_PAGE_SCALES = (1, 2, 3)  # chrome repeated this many times: about 100, 200, 300 KiB
_FILLER = (  # words for the chrome's headlines and summaries
    "Công an tỉnh phối hợp Bộ Chỉ huy Quân sự tổ chức hội nghị giao ban bảo đảm an ninh trật tự "
    "năm 2024 lực lượng vũ trang tuần tra kiểm soát biên giới người dân kinh tế giá vàng thời tiết "
    "bóng đá giải ngoại hạng học sinh thi tốt nghiệp giao thông tai nạn xe khách cao tốc Bắc Nam "
    "Thủ tướng chỉ đạo Quốc hội thảo luận dự án luật đất đai ngân hàng lãi suất chứng khoán"
)
_WORDS = _FILLER.split()


@dataclass(frozen=True)
class Page:
    """One benchmark page: the bytes and the arguments extract_article gets for it."""

    name: str
    body: bytes
    url: str
    kwargs: dict[str, Any]
    gold: str | None

    def extract(self) -> Any:
        return extract_article(self.body, self.url, **self.kwargs)


def saved_pages() -> list[Page]:
    """The repository's saved pages (the real pages are measured on their own, see real_article_pages)."""
    pages = []
    for case in page_cases():
        if case.id.startswith("realpages/"):
            continue
        spec = case.spec()
        given = spec["input"]
        reference = given.get("reference")
        kwargs = {
            "source": case.id.split("/")[0],
            "declared_encoding": given.get("declared_encoding"),
            "reference": datetime.fromisoformat(reference).replace(tzinfo=VIETNAM) if reference else None,
        }
        pages.append(Page(case.id, case.body, given["url"], kwargs, spec.get("gold_text")))
    return pages


def _headline(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words)).capitalize()


def _teaser(rng: random.Random, cls: str) -> str:
    """A linked story teaser as news sites list them: thumbnail, title, one-sentence summary."""
    href = f"/{'-'.join(rng.choice(_WORDS).lower() for _ in range(6))}-{rng.randrange(10**6, 10**7)}.html"
    return (
        f'<article class="{cls}"><a href="{href}" class="thumb"><img src="/img{href}.jpg" alt="" '
        f'loading="lazy" width="240" height="144"></a><h3 class="title-news"><a href="{href}">'
        f'{_headline(rng, 12)}</a></h3><p class="description">{_headline(rng, 28)}.</p></article>'
    )


def _chrome(rng: random.Random, scale: int) -> tuple[str, str, str]:
    """(head, top, bottom) markup of a heavy news page; ``scale`` multiplies the lists."""
    slots = ",".join(map(str, range(40)))
    script = "".join(
        f"window.__cfg{i}={{id:{rng.randrange(10**8)},zone:'{_headline(rng, 3)}',slots:[{slots}]}};"
        for i in range(150 * scale)
    )
    style = "".join(f".c{i}{{margin:{i % 9}px;color:#{i:06x};display:flex}}" for i in range(400 * scale))
    head = f"<style>{style}</style><script>{script}</script>"
    menu = "".join(
        f'<li class="menu-item"><a href="/muc-{i}">{_headline(rng, 2)}</a><ul class="sub-menu">'
        + "".join(f'<li><a href="/muc-{i}/{j}">{_headline(rng, 2)}</a></li>' for j in range(12))
        + "</ul></li>"
        for i in range(18 * scale)
    )
    ticker = "".join(f'<li><a href="/tin-{i}.html">{_headline(rng, 10)}</a></li>' for i in range(10))
    top = (
        f'<header class="site-header"><div class="top-bar"><a href="/">Trang chủ</a> <span class="date">'
        f'Thứ Hai, 20/05/2024</span> <a href="/dang-nhap">Đăng nhập</a></div><nav class="main-menu"><ul>{menu}</ul>'
        f'</nav></header><div class="ticker"><strong>Tin nóng</strong><ul>{ticker}</ul></div>'
        '<div class="banner ads"><img src="/ads/top.gif" alt="Quảng cáo"></div>'
    )
    sidebar = "".join(_teaser(rng, "item-news-sidebar") for _ in range(15 * scale))
    related = "".join(_teaser(rng, "item-related") for _ in range(8 * scale))
    section = "".join(_teaser(rng, "item-news") for _ in range(20 * scale))
    footer_links = "".join(f'<a href="/lien-ket-{i}">{_headline(rng, 3)}</a> ' for i in range(60 * scale))
    bottom = (
        f'<div class="box-related"><h2 class="box-title">Tin liên quan</h2>{related}</div>'
        f'<section class="box-category"><h2 class="box-title">Tin cùng chuyên mục</h2>{section}</section>'
        f'<aside class="sidebar"><div class="box-most-read"><h2>Đọc nhiều</h2>{sidebar}</div></aside>'
        f'<footer class="site-footer"><div class="links">{footer_links}</div><p class="copyright">Cơ quan chủ quản: '
        "Bộ Thông tin và Truyền thông. Giấy phép số 548/GP-BTTTT cấp ngày 24/08/2021. Địa chỉ: 1 Tràng Tiền, "
        "Hoàn Kiếm, Hà Nội. Điện thoại: 024 1234 5678. Chỉ được phát hành lại thông tin từ website này khi "
        f"có sự đồng ý bằng văn bản.</p></footer><script>{script[: len(script) // 2]}</script>"
    )
    return head, top, bottom


def big_pages(saved: list[Page]) -> list[Page]:
    """Saved pages wrapped in heavy site chrome, deterministic (seeded), built in memory."""
    by_name = {page.name: page for page in saved}
    pages = []
    for base_name, scale in zip(BIG_PAGE_BASES, BIG_PAGE_SCALES, strict=True):
        base = by_name.get(base_name)
        if base is None:
            continue
        head, top, bottom = _chrome(random.Random(f"{base_name}/{scale}"), scale)
        html = base.body.decode("utf-8")
        html = html.replace("</head>", head + "</head>", 1) if "</head>" in html else head + html
        body_open = html.index(">", html.index("<body")) + 1
        body_close = html.rindex("</body>")
        wrapped = html[:body_open] + top + html[body_open:body_close] + bottom + html[body_close:]
        pages.append(Page(f"big/{base_name}", wrapped.encode("utf-8"), base.url, base.kwargs, base.gold))
    return pages


def cpu_median(call: Callable[[], object], repeat: int) -> float:
    """Median CPU seconds of ``repeat`` calls (one untimed warm-up call first)."""
    call()
    samples = []
    for _ in range(repeat):
        start = time.process_time()
        call()
        samples.append(time.process_time() - start)
    return statistics.median(samples)


def stored_text(page: Page, stage: CleanStage) -> str:
    """What a crawl stores for the page: extraction, then the clean stage ("" when it drops the page)."""
    try:
        return stage.process_item(page.extract())["text"]
    except Dropped:
        return ""


def measure(page: Page, stage: CleanStage, repeat: int) -> dict[str, float | None]:
    item = page.extract()
    ours_text = stored_text(page, stage)
    theirs_text = trafilatura.extract(page.body, url=page.url) or ""
    gold = page.gold
    return {
        "ours": cpu_median(page.extract, repeat),
        "ours_clean": cpu_median(lambda: stored_text(page, stage), repeat),
        "trafilatura": cpu_median(lambda: trafilatura.extract(page.body, url=page.url), repeat),
        "f1_ours": token_f1(ours_text, gold) if gold else None,
        "f1_ours_raw": token_f1(body_text(item.get("body_html") or ""), gold) if gold else None,
        "f1_trafilatura": token_f1(theirs_text, gold) if gold else None,
        "bytes": float(len(page.body)),
    }


def report(title: str, rows: dict[str, dict[str, float | None]], repeat: int) -> None:
    print(f"\n{title}")
    print(f"{'page':38} {'KiB':>5} {'ours ms':>8} {'+clean':>8} {'trafil.':>8}  {'F1 ours':>7} {'F1 traf':>7}")
    for name, row in rows.items():
        f1_ours = f"{row['f1_ours']:.3f}" if row["f1_ours"] is not None else "-"
        f1_traf = f"{row['f1_trafilatura']:.3f}" if row["f1_trafilatura"] is not None else "-"
        print(
            f"{name:38} {row['bytes'] / 1024:5.1f} {row['ours'] * 1000:8.2f} {row['ours_clean'] * 1000:8.2f} "
            f"{row['trafilatura'] * 1000:8.2f}  {f1_ours:>7} {f1_traf:>7}"
        )

    def column(key: str) -> list[float]:
        return [value for row in rows.values() if (value := row[key]) is not None]

    ours, clean, theirs = column("ours"), column("ours_clean"), column("trafilatura")
    print(f"pages: {len(rows)}, {repeat} timed runs each")
    for label, values in (
        ("extract_article", ours),
        ("extract_article + cleaning", clean),
        ("trafilatura.extract", theirs),
    ):
        print(f"{label:28} median {statistics.median(values) * 1000:7.2f} ms/page   total {sum(values) * 1000:8.1f} ms")
    print(
        f"time ratio ours/trafilatura: {statistics.median(ours) / statistics.median(theirs):.2f} (extract only), "
        f"{statistics.median(clean) / statistics.median(theirs):.2f} (with cleaning)"
    )
    for label, key in (
        ("ours (cleaned text)", "f1_ours"),
        ("ours (body text)", "f1_ours_raw"),
        ("trafilatura", "f1_trafilatura"),
    ):
        scores = column(key)
        if scores:
            print(f"token F1 vs gold, {label:20} mean {statistics.mean(scores):.3f}  min {min(scores):.3f}")


# --- real pages: field accuracy against the JSON beside each article --------------------------

REAL_FIELDS = ("title", "published", "author", "first", "last")
# trafilatura's date search, asked for the time of day too and for the original (not updated) date
_TRAFILATURA_DATES = {"original_date": True, "extensive_search": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}


def _label(text: str | None) -> str | None:
    return " ".join(unicodedata.normalize("NFC", text).split()) if text else None


def _folded(text: str | None) -> str:
    return " ".join(normalize_text(text or "").split())


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(re.sub(r"\s+(?=[+-]\d{2}:?\d{2}$)", "", value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VIETNAM)


def field_hits(found: dict[str, Any], expected: dict[str, Any]) -> dict[str, bool]:
    """Which fields an extractor got right, judged as tests/test_realpages.py judges qpan: title
    and author equal up to NFC and whitespace, the same publication instant to the second, and the
    stored text (normalised, whitespace folded) starting with the JSON's first ~80 characters and
    ending with its last ~80."""
    text = _folded(found.get("text"))
    return {
        "title": _label(found.get("title")) == _label(expected["title"]),
        "published": found.get("published") == _instant(expected["published"]),
        "author": _label(found.get("author")) == _label(expected["author"]),
        "first": bool(text) and text.startswith(_folded(expected["first"])),
        "last": bool(text) and text.endswith(_folded(expected["last"])),
    }


def ours_fields(page: Page, stage: CleanStage) -> dict[str, Any]:
    item = page.extract()
    try:
        text = stage.process_item(item)["text"]
    except Dropped:
        text = ""
    return {"title": item.get("title"), "published": item.get("published"), "author": item.get("author"), "text": text}


def trafilatura_fields(page: Page) -> dict[str, Any]:
    document = trafilatura.bare_extraction(
        page.body, url=page.url, with_metadata=True, date_extraction_params=_TRAFILATURA_DATES
    )
    if document is None:
        return {}
    found = document.as_dict()
    date = found.get("date")
    text = found.get("text") or ""
    head, _, rest = text.partition("\n")
    if found.get("title") and _label(head) == _label(found["title"]):
        text = rest  # trafilatura often repeats the headline as the text's first line: not held against it
    return {
        "title": found.get("title"),
        "published": parse_date(date) if date else None,
        "author": found.get("author"),
        "text": text,
    }


def real_article_pages() -> list[tuple[Page, dict[str, Any]]]:
    """Every real article page with the JSON beside it; none when the folder is absent."""
    if not REALPAGES.is_dir():
        return []
    pages = []
    for path in sorted(REALPAGES.glob("*/*.json")):
        expected = json.loads(path.read_text(encoding="utf-8"))
        name = f"real/{path.parent.name}/{path.stem}"
        body = path.with_suffix(".html").read_bytes()
        pages.append((Page(name, body, expected["url"], {"source": "real"}, None), expected))
    return pages


def report_real_fields(pages: list[tuple[Page, dict[str, Any]]], stage: CleanStage) -> None:
    """Per page and field, whether qpan (left) and trafilatura (right) got it as the page's JSON says."""
    print("\nreal article pages: fields as in each page's JSON (+ right, - wrong), qpan / trafilatura")
    print(f"{'page':50} " + " ".join(f"{name:>9}" for name in REAL_FIELDS))
    totals = {"qpan": dict.fromkeys(REAL_FIELDS, 0), "trafilatura": dict.fromkeys(REAL_FIELDS, 0)}
    for page, expected in pages:
        ours = field_hits(ours_fields(page, stage), expected)
        theirs = field_hits(trafilatura_fields(page), expected)
        for field in REAL_FIELDS:
            totals["qpan"][field] += ours[field]
            totals["trafilatura"][field] += theirs[field]
        marks = (f"{'+' if ours[field] else '-'}/{'+' if theirs[field] else '-'}" for field in REAL_FIELDS)
        print(f"{page.name:50} " + " ".join(f"{mark:>9}" for mark in marks))
    for extractor, hits in totals.items():
        print(f"{extractor:12} " + ", ".join(f"{field} {hits[field]}/{len(pages)}" for field in REAL_FIELDS))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per page and extractor (default 30)")
    args = parser.parse_args()
    stage = CleanStage()
    saved = saved_pages()
    real = real_article_pages()
    for title, pages in (
        ("saved pages (tests/pages)", saved),
        ("big pages (saved pages in heavy site chrome)", big_pages(saved)),
        (f"real article pages ({REALPAGES})", [page for page, _ in real]),
    ):
        if pages:
            report(title, {page.name: measure(page, stage, args.repeat) for page in pages}, args.repeat)
    if real:
        report_real_fields(real, stage)
    else:
        print(f"\nreal pages: {REALPAGES} is absent, skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
