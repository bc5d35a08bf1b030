"""Realistic article texts on the theme for the dedup benchmarks, with known republications.

Random band keys never find a candidate, and random words never share a formula, so neither
shows what a lookup costs on a store of news about one theme. These texts are recombined from
the seeds and the labelled set (tests/data/relevance): sentences are rebuilt from clauses of
those texts, a share of the clauses with their words in another order, so that articles share
the theme's formulae ("bảo đảm an ninh chính trị, trật tự, an toàn xã hội") without sharing
whole passages. Relevant articles draw on the relevant texts, the others on the rest.
``SHUFFLED`` was chosen so that the pairwise Jaccard of generated articles matches the labelled
set's (``python benchmarks/corpus.py`` prints both, see ``calibration``).

A stream mixes in what a crawl meets: republications of recent articles (other chrome, a cut
ending, an excerpt of the first paragraphs or the first 40% of the words) and other reports of
a recent relevant story (half its paragraphs kept, new title), published a few hours later.
"""

from __future__ import annotations

import itertools
import random
import re
import sys
import tomllib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# share of clauses whose words are put in another order, for relevant and for other articles
SHUFFLED = (0.25, 0.8)
RELEVANT_SHARE = 0.05  # of new articles; the rest is other security and defence news
REPUBLISHED = 0.08  # share of the stream that republishes a recent article
SAME_STORY = 0.03  # share that reports a recent relevant story again
RETOLD_KEPT = 0.45  # share of a story's sentences another report of it repeats
RECENT = 2000  # republications and other reports pick their original among the last articles
CHROME = (
    ("Trang chủ › Thời sự › Quốc phòng\n\nCỡ chữ A- A+\n\n", "\n\nChia sẻ: Facebook Zalo\n\nTin cùng chuyên mục"),
    ("Tin nóng | Video | Ảnh\n\n", "\n\nNguồn: Báo Công an nhân dân\n\nĐăng ký nhận bản tin"),
)


@dataclass(frozen=True)
class Article:
    n: int
    kind: str  # new, republication, same_story
    text: str
    relevant: bool
    published: datetime
    original: int | None  # the article a republication or another report is of


def _texts() -> tuple[list[str], list[str]]:
    """(relevant, other) bodies of the seeds and the labelled set, as labels.toml marks them."""
    folder = ROOT / "tests" / "data" / "relevance"
    relevant, other = [], []
    for entry in tomllib.loads((folder / "labels.toml").read_text(encoding="utf-8"))["article"]:
        if "seed" in entry:
            body = (ROOT / "seeds" / entry["seed"]).read_text(encoding="utf-8")
        else:
            body = (folder / entry["file"]).read_text(encoding="utf-8").partition("\n")[2]
        (relevant if entry["relevant"] else other).append(body)
    return relevant, other


def _clauses(bodies: list[str]) -> list[str]:
    parts = re.split(r"[,;:.!?]\s+|\n+", " ".join(bodies))
    return [part.strip(" .") for part in parts if len(part.split()) >= 3]


@lru_cache(maxsize=1)
def pools() -> tuple[list[str], list[str]]:
    relevant, other = _texts()
    return _clauses(relevant), _clauses(other)


def _sentence(rng: random.Random, relevant: bool) -> str:
    chosen = []
    for clause in rng.sample(pools()[0 if relevant else 1], rng.randint(2, 5)):
        if rng.random() < SHUFFLED[0 if relevant else 1]:
            words = clause.split()
            rng.shuffle(words)
            clause = " ".join(words)
        chosen.append(clause)
    text = ", ".join(chosen)
    return text[0].upper() + text[1:] + "."


def new_text(rng: random.Random, relevant: bool) -> str:
    """Title, then 2-7 paragraphs of 1-4 sentences, about as long as the set's texts."""
    title = _sentence(rng, relevant).rstrip(".")
    paragraphs = [
        " ".join(_sentence(rng, relevant) for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(2, 7))
    ]
    return "\n\n".join([title, *paragraphs])


def republish(rng: random.Random, text: str) -> str:
    parts = text.split("\n\n")
    head, tail = rng.choice(CHROME)
    words = text.split(" ")
    variant = rng.randrange(4)
    if variant == 0:
        return head + text + tail
    if variant == 1:
        return "\n\n".join(parts[: max(2, len(parts) - 2)])
    if variant == 2:
        return "\n\n".join(parts[: -(-2 * len(parts) // 3)])
    return head + " ".join(words[: int(0.4 * len(words))]) + tail


def retell(rng: random.Random, text: str) -> str:
    """Another report of the same story: a new title, each sentence kept with probability
    ``RETOLD_KEPT``, the others told anew; the seed 000 and tests/dedup/same_meeting_qdnd.txt,
    two reports of one meeting, have Jaccard 0.21."""
    paragraphs = [
        " ".join(sentence if rng.random() < RETOLD_KEPT else _sentence(rng, True) for sentence in part.split(". "))
        for part in text.split("\n\n")[1:]
    ]
    return "\n\n".join([_sentence(rng, True).rstrip("."), *paragraphs])


def root(article: Article) -> int:
    """What a republication of ``article`` duplicates: the article, or the original it copies."""
    return article.original if article.kind == "republication" and article.original is not None else article.n


def stream(seed: int, first: int, count: int, start: datetime, per_day: int) -> Iterator[Article]:
    """``count`` articles numbered from ``first``, ``per_day`` a day from ``start``."""
    rng = random.Random(seed)
    recent: deque[Article] = deque(maxlen=RECENT)
    step = timedelta(days=1) / per_day
    for n in range(first, first + count):
        published = start + step * n
        roll = rng.random()
        relevant_recent = [a for a in itertools.islice(reversed(recent), 200) if a.relevant and a.kind == "new"]
        if recent and roll < REPUBLISHED:
            original = rng.choice(recent)
            article = Article(n, "republication", republish(rng, original.text), original.relevant, published,
                              root(original))
        elif relevant_recent and roll < REPUBLISHED + SAME_STORY:
            original = rng.choice(relevant_recent)
            article = Article(n, "same_story", retell(rng, original.text), True, published, original.n)
        else:
            relevant = rng.random() < RELEVANT_SHARE
            article = Article(n, "new", new_text(rng, relevant), relevant, published, None)
        recent.append(article)
        yield article


def calibration(count: int = 300) -> str:
    """Pairwise exact Jaccard of generated articles beside the labelled set's, per kind of pair."""
    from qpan.pipelines.dedup import shingles

    def summary(sets: list[np.ndarray]) -> str:
        values = np.array([
            len(np.intersect1d(a, b, assume_unique=True)) / len(np.union1d(a, b))
            for a, b in itertools.combinations(sets, 2)
        ])
        return f"mean {values.mean():.4f}, 90th {np.percentile(values, 90):.4f}, max {values.max():.3f}"

    relevant, other = _texts()
    rng = random.Random(11)
    lines = []
    for name, bodies, flag in (("relevant", relevant, True), ("other", other, False)):
        generated = [shingles(new_text(rng, flag)) for _ in range(count)]
        lines.append(f"{name} pairs: labelled set {summary([shingles(body) for body in bodies])}; "
                     f"generated {summary(generated)}")
    sizes = [len(shingles(new_text(rng, rng.random() < 0.5))) for _ in range(count)]
    lines.append(f"shingles per generated article: median {int(np.median(sizes))}, "
                 f"5th-95th {int(np.percentile(sizes, 5))}-{int(np.percentile(sizes, 95))}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(calibration())
