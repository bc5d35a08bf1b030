"""Building blocks for the dedup and store tests: a migrated database, items, republications."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from qpan.items import ArticleItem
from qpan.pipelines import dedup
from qpan.pipelines.stages.fingerprint import FingerprintStage
from qpan.storage.db import Database
from qpan.storage.migrate import upgrade
from qpan.storage.models import Article, DedupBand

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
DEDUP_FIXTURES = Path(__file__).resolve().parents[1] / "dedup"
MEETING_SEED = "000_219d41f9fef099b1"  # the 16/7/2021 conference that dedup/same_meeting_qdnd.txt also reports
MEETING_DAY = datetime.fromisoformat("2021-07-16T16:15:00+07:00")


def seed_texts() -> dict[str, str]:
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))}


def migrated(url: str) -> Database:
    database = Database(url)
    upgrade(database)
    return database


def sqlite_database(tmp_path: Path) -> Database:
    return migrated(f"sqlite:///{tmp_path / 'qpan.db'}")


def article_item(text: str, url: str, **fields: Any) -> ArticleItem:
    """An item as it reaches the dedup stage: scored by relevance, fingerprinted."""
    item = ArticleItem(
        url=url,
        canonical_url=url,
        source=fields.pop("source", "test"),
        title=fields.pop("title", text.split("\n", 1)[0][:200]),
        text=text,
        raw_text=text,
        relevance=fields.pop("relevance", 0.9),
        relevant=fields.pop("relevant", True),
        matched_terms={},
    )
    for name, value in fields.items():
        item[name] = value
    return FingerprintStage().process_item(item)


def paragraphs(text: str) -> list[str]:
    return [part for part in text.split("\n\n") if part.strip()]


def republications(text: str) -> dict[str, str]:
    """How another site republishes a text: its own chrome, a cut ending, a new headline, a caption."""
    parts = paragraphs(text)
    kept, length = [], 0
    for part in parts:  # the first paragraphs up to about three quarters of the text
        if kept and length + len(part) > 0.75 * len(text):
            break
        kept.append(part)
        length += len(part)
    headline = "Hai lực lượng Công an, Quân đội phối hợp hiệu quả"
    caption = "Quang cảnh buổi làm việc. Ảnh: Minh Đức/Báo Biên phòng"
    return {
        "other_boilerplate": "Trang chủ › Thời sự › Quốc phòng\n\nCỡ chữ A- A+\n\n"
        + text
        + "\n\nChia sẻ: Facebook Zalo Twitter\n\nTin cùng chuyên mục\n\nTheo dõi chúng tôi trên Google News",
        "trimmed_ending": "\n\n".join(kept),
        "different_title": "\n\n".join([headline, *(parts[1:] if len(parts[0]) < 150 else parts)]),
        "added_caption": "\n\n".join([*parts[:2], caption, *parts[2:]]),
    }


def excerpts(text: str) -> dict[str, str]:
    """How another site republishes part of a text: its first two thirds of paragraphs (the last,
    often long, ones cut), its first 40% of words, and that excerpt in the other site's chrome."""
    parts = paragraphs(text)
    words = text.split(" ")
    forty = " ".join(words[: int(0.4 * len(words))])
    return {
        "first_two_thirds": "\n\n".join(parts[: -(-2 * len(parts) // 3)]),
        "first_40_percent": forty,
        "excerpt_in_other_chrome": "Trang chủ › Thời sự\n\nĐọc nhanh\n\n" + forty
        + "\n\nNguồn: Báo Công an nhân dân\n\nTin mới nhất\n\nĐăng ký nhận bản tin",
    }


def found_as_duplicate(original: str, copy: str) -> bool:
    """The dedup stage's verdict on a pair, without a database: the copy shares a band with the
    original (so the lookup brings it up) and is a duplicate by Jaccard, or by exact containment
    when the estimate calls for the check."""
    first, second = dedup.fingerprint(original), dedup.fingerprint(copy)
    if first.signature is None or second.signature is None or not set(first.band_keys) & set(second.band_keys):
        return False
    similarity = dedup.compare(first.signature, first.shingle_count, second.signature, second.shingle_count)
    if similarity.relation is dedup.Relation.DUPLICATE:
        return True
    return similarity.check_containment and dedup.is_excerpt(dedup.shingles(original), dedup.shingles(copy))


def count_rows(database: Database) -> dict[str, int]:
    with database.session() as session:
        return {
            "articles": session.scalar(select(func.count()).select_from(Article)) or 0,
            "bands": session.scalar(select(func.count()).select_from(DedupBand)) or 0,
            "search": session.scalar(text("SELECT count(*) FROM article_search")) or 0,
        }


def by_url(database: Database, url: str) -> Article:
    with database.session() as session:
        article = session.scalars(select(Article).where(Article.canonical_url == url)).one()
        session.expunge(article)
        return article


def aware(value: str) -> datetime:
    return datetime.fromisoformat(value)
