"""A crawl stopped with SIGTERM or SIGINT still writes the articles waiting in the store batch.

A real Scrapy process (CrawlerProcess, as ``qpan crawl`` runs it) with the prepare stage (in a
page worker process), the dedup and store stages and a batch too large to fill: every article it
reports as scraped must be in the database after the signal, because Scrapy's graceful shutdown
ends in ``close_spider``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from support.articles import count_rows, migrated

REPO = Path(__file__).resolve().parents[1]

CRAWL = '''
import asyncio, random, sys
import scrapy
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from qpan.items import ArticleItem
from support.articles import seed_texts

WORDS = sorted({word for text in seed_texts().values() for word in text.split()})

class Endless(scrapy.Spider):
    name = "endless"

    async def start(self):
        for n in range(3_000):
            yield scrapy.Request(f"data:text/plain,{n}", cb_kwargs={"n": n}, dont_filter=True)
            await asyncio.sleep(0.02)

    def parse(self, response, n):
        # Items come from a callback, as the news spider's do: Scrapy 2.19 never finishes closing
        # when an item yielded straight from start() is still in an async pipeline at shutdown.
        text = " ".join(random.Random(n).choices(WORDS, k=300))  # unrelated to each other
        yield ArticleItem(url=f"https://bao.example.vn/{n}.html", canonical_url=f"https://bao.example.vn/{n}.html",
                          source="bao", title=f"Bài {n}", text=text, raw_text=text, relevant=False)

def scraped(item, **_):
    print("scraped", item["canonical_url"], flush=True)

process = CrawlerProcess({
    "QPAN_DATABASE_URL": sys.argv[1],
    "QPAN_STORE_BATCH_SIZE": 100_000,
    "QPAN_STORE_MAX_WAIT": 3600,
    "ITEM_PIPELINES": {
        "qpan.pipelines.stages.prepare.PrepareStage": 100,  # in a page worker process, as in a crawl
        "qpan.pipelines.stages.dedup.DedupStage": 300,
        "qpan.pipelines.stages.store.StoreStage": 400,
    },
    "QPAN_PAGE_WORKERS": 1,
    "LOG_LEVEL": "WARNING",
    "TELNETCONSOLE_ENABLED": False,
})
crawler = process.create_crawler(Endless)
crawler.signals.connect(scraped, signal=signals.item_scraped)
process.crawl(crawler)
print("started", flush=True)
process.start()
'''


def test_sigterm_flushes_the_batch(tmp_path: Path) -> None:
    """SIGINT takes the same path (Scrapy installs one shutdown handler for both)."""
    url = f"sqlite:///{tmp_path / 'qpan.db'}"
    database = migrated(url)
    script = tmp_path / "crawl.py"
    script.write_text(CRAWL, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO / "tests")}
    process = subprocess.Popen(
        [sys.executable, str(script), url], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        scraped = _wait_for_items(process, 10)
        assert count_rows(database)["articles"] == 0  # all still in the batch
        process.send_signal(signal.SIGTERM)
        # Read through the same buffered stream as _wait_for_items: communicate() reads the raw pipe
        # and would miss lines readline() has already buffered. Stderr (warnings only) stays small.
        assert process.stdout is not None and process.stderr is not None
        guard = threading.Timer(120, process.kill)  # a hung shutdown fails the test instead of hanging it
        guard.start()
        try:
            rest = process.stdout.read()
            errors = process.stderr.read()
            process.wait()
        finally:
            guard.cancel()
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    scraped += sum(line.startswith("scraped ") for line in rest.splitlines())
    assert process.returncode == 0, errors[-2000:]
    assert count_rows(database) == {"articles": scraped, "bands": 32 * scraped, "search": scraped}


def _wait_for_items(process: subprocess.Popen[str], count: int) -> int:
    assert process.stdout is not None
    scraped = 0
    deadline = time.monotonic() + 120
    while scraped < count and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        scraped += line.startswith("scraped ")
    assert scraped >= count, "the crawl did not start"
    return scraped
