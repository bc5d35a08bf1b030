"""Dedup stage: is this article one we already have, a republication of one, or a new telling
of a story we know?

* same canonical URL -> the stored article (the store stage updates it, not inserts);
* same normalised text (content hash) -> ``duplicate_of`` the first article with it;
* near-duplicate: LSH band keys looked up in the database, candidates verified by the
  estimated Jaccard of their MinHash signatures -> ``duplicate_of`` the earliest;
* excerpt: a candidate whose estimated containment comes close is re-shingled from its stored
  text, and when the shorter of the two texts lies ``DUPLICATE_CONTAINMENT`` inside the longer
  (``is_excerpt``), whichever came first -> ``duplicate_of`` it;
* same story (Jaccard between ``CLUSTER_JACCARD`` and the duplicate threshold, e.g. another
  report of the same meeting) -> a new article in the earliest candidate's ``cluster``. Such
  pairs share too little text for the bands to find them reliably, so a relevant article is
  also compared with the relevant articles published within ``STORY_WINDOW`` of it (the
  nearest in time, a bounded number: ``qpan.storage.articles.lookup``).

Seeds are stored through the same stages, so an article repeating a seed duplicates the seed.
Articles still waiting in the store batch are flushed first when they might match, so every
decision is made against the database and points at a stored id.

In a crawl the verdict runs on the crawl's serial database thread (``storage.worker``) and
queues the article in the store batch in the same step: Scrapy runs many items at once, and a
second copy of a text judged between the first copy's verdict and its queueing would not see
it. One thread and one step keep verdicts in the order the items arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from scrapy.crawler import Crawler
from sqlalchemy import Connection

from qpan.pipelines.dedup import (
    Fingerprint,
    Relation,
    compare_many,
    decode_signatures,
    is_excerpt,
    shingles,
)
from qpan.stats import Stats, stat_key
from qpan.storage.articles import Candidate, lookup, stored_texts
from qpan.storage.batch import ArticleBatch, crawler_batch
from qpan.storage.crawler import crawler_database
from qpan.storage.db import Database
from qpan.storage.worker import DatabaseWorker, ReactorStats, crawler_worker

STORY_WINDOW = timedelta(days=2)  # reports of one meeting appear within a day or two of it


@dataclass(frozen=True)
class Verdict:
    duplicate_of: int | None
    cluster: int | None
    repeated: bool  # already known: same URL, same text or a near-duplicate


def judge(
    connection: Connection, canonical_url: str, fp: Fingerprint, text: str, published: datetime | None = None
) -> Verdict:
    """Compare one fingerprint (of ``text``) with the stored articles (see the module docstring);
    a relevant article passes its ``published`` date so same-day reports of a meeting are compared too."""
    window = None
    if fp.signature is not None and published is not None:
        window = (published - STORY_WINDOW, published + STORY_WINDOW)
    found = lookup(connection, canonical_url, fp.content_hash, fp.band_keys, window)
    if found.known is not None:
        return Verdict(found.known.duplicate_of_id, found.known.cluster, repeated=True)
    if found.same_text is not None:
        return Verdict(found.same_text.original_id, found.same_text.cluster, repeated=True)
    if fp.signature is None:
        return Verdict(None, None, repeated=False)
    signatures, counts = decode_signatures([candidate.minhash for candidate in found.candidates])
    similar = compare_many(fp.signature, fp.shingle_count, signatures, counts)
    pairs = list(zip(found.candidates, similar, strict=True))
    originals = [candidate for candidate, similarity in pairs if similarity.relation is Relation.DUPLICATE]
    suspects = [candidate for candidate, similarity in pairs if similarity.check_containment]
    originals += _excerpts(connection, text, suspects)
    if originals:
        first = min(originals, key=lambda candidate: candidate.original_id)
        return Verdict(first.original_id, first.cluster, repeated=True)
    stories = [candidate for candidate, similarity in pairs if similarity.relation is Relation.SAME_STORY]
    if stories:
        return Verdict(None, min(candidate.cluster_id for candidate in stories), repeated=False)
    return Verdict(None, None, repeated=False)


def _excerpts(connection: Connection, text: str, suspects: list[Candidate]) -> list[Candidate]:
    """The suspects that contain the text or are contained in it, measured exactly on their stored
    text (one query for all; suspects are rare, so re-shingling is cheaper than storing shingles)."""
    if not suspects:
        return []
    texts = stored_texts(connection, [candidate.id for candidate in suspects])
    mine = shingles(text)
    return [candidate for candidate in suspects if is_excerpt(mine, shingles(texts[candidate.id]))]


class DedupStage:
    """Sets ``duplicate_of`` and ``cluster`` from the fingerprint the fingerprint stage set;
    counts ``qpan/source/<name>/duplicates`` for articles already known."""

    def __init__(
        self,
        database: Database,
        batch: ArticleBatch | None = None,
        stats: Stats | None = None,
        worker: DatabaseWorker | None = None,
    ) -> None:
        self.database = database
        self.batch = batch
        self.stats = stats
        self.worker = worker

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupStage:
        stats = ReactorStats(crawler.stats)
        return cls(crawler_database(crawler), crawler_batch(crawler), stats, crawler_worker(crawler))

    async def process_item(self, item: Any, spider: object = None) -> Any:
        assert self.worker is not None, "a crawl's stage is built by from_crawler"
        return await self.worker.serial(self.process, item)

    def process(self, item: Any) -> Any:
        """The stage itself, synchronous (the seed loader's chain runs it inline)."""
        fp = Fingerprint.from_stored(item["content_hash"], item["minhash"], item["band_keys"])
        if self.batch is not None and self.batch.holds_match_for(item, STORY_WINDOW):
            self.batch.flush()
        with self.database.engine.connect() as connection:
            published = item.get("published") if item.get("relevant") else None
            verdict = judge(connection, item["canonical_url"], fp, item.get("text") or "", published)
        item["duplicate_of"] = verdict.duplicate_of
        item["cluster"] = verdict.cluster
        if verdict.repeated and self.stats is not None:
            self.stats.inc_value(stat_key(item.get("source"), "duplicates"))
        if self.batch is not None:
            self.batch.queue(item)
        return item
