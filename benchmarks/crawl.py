"""Crawl benchmark: a full ``qpan crawl`` against a bare Scrapy spider on the same static site.

What is measured, and why this way:

* The site is rendered once, before any crawl, into files: a sitemap index, sitemaps of 500
  URLs, and N article pages of 25–60 KB (the article as the demo renders it, wrapped in site
  chrome: menus, most-read boxes, footers, inline scripts), so neither crawl pays for page
  rendering, and pages weigh what a news page's HTML weighs.
* The server is nginx when it is installed (one worker), else ``benchmarks/static_server.py``
  (every file in memory, asyncio, keep-alive). Its CPU per page is printed: it shares the
  2 cores with the crawler and must not be the bottleneck.
* The bare spider is a ``SitemapSpider`` whose ``parse`` does nothing, with
  ``CONCURRENT_ITEMS = 1`` (its pages yield no item; Scrapy's default of 100 would start 100
  worker tasks per response for nothing). Both crawls use the same concurrency, no delay, no
  AutoThrottle, robots.txt obeyed, neither Scrapy's telnet nor its remote-control port; each
  is a fresh process timed from start to exit, so start-up counts for both. qpan crawls into
  a fresh copy of an initialised database each round.
* Rounds interleave bare and qpan (default three), so a change in machine load hits both; the
  last line gives the median ratio and its range. On a host whose speed drifts (one round's
  ratio went from 0.41 to 0.56 with the same code) take more rounds and read the median.

    python benchmarks/crawl.py [--pages 2000] [--rounds 3] [--concurrency 16]
    python benchmarks/crawl.py --pages 20000 --rounds 1    # adds pages/s per 2,000-page slice

Prints, per round and crawl: pages/s, CPU ms per page (with qpan's page workers, and for qpan
the crawl process's share apart, split into its main thread, the reactor's, and its other
threads, mostly the database thread's), peak RSS; the ratio qpan / bare per round, with the
most qpan's CPU allows (its CPU a page spread over every core with no wait: the bare spider keeps
one core busy, so on 2 cores qpan at 3.5 times its CPU a page can reach at most 2 / 3.5 = 0.57)
and the share of that reached, which tells how well the two processes work side by side apart
from what each page costs; the server's CPU per page; for qpan the stored bytes per article;
and with more than 2,000 pages the rate of each 2,000-page slice (from the server's request
log) and the resident memory of the crawl and its workers at the end of each slice, which show
whether the crawl slows down or grows as the database grows.

Before the page workers (2,000 pages of 27–59 KB, nginx at 0.05 ms CPU a page, idle 2-core
machine): bare 569 / 558 / 557 pages/s, qpan 106 / 90 / 85 (11.1–13.9 ms CPU a page, one
process): ratio 0.19 / 0.16 / 0.15.

Before the last round of work (a 0.1 s poll then ended the timings, which added up to 0.1 s to
each crawl): bare 948 / 830 / 949 pages/s, qpan 271 / 276 / 279, ratio 0.29 / 0.33 / 0.29.

Before start-up objects were frozen without a collection (2026-12-01, an earlier machine of the
same kind, exact wall times): bare 797 / 817 / 822 pages/s, qpan 358.0 / 356.1 / 347.7, ratio
0.45 / 0.44 / 0.42.

After it, on a faster machine (2026-12-01): bare 919 / 919 / 916 and 857 / 829 / 848
pages/s, qpan 391 / 419 / 374 and 378 / 380 / 383, ratio 0.42 / 0.46 / 0.41 and 0.44 / 0.46 / 0.45;
20,000 pages: ratio 0.36, slices 301, 515, 450, 460, 472, 383, 419, 397, 334, 424 pages/s.

After the driver-level dedup lookup and the start-up GC pause (2026-12-01, a machine
about three times slower, server CPU 0.08-0.12 ms a page): bare 255 / 241 / 282 pages/s at
3.54-4.10 ms CPU a page; qpan 125 / 111 / 136 pages/s at 12.5-14.9 ms CPU a page (crawl process
6.30-7.26 ms, page worker 6.23-7.67 ms), peak RSS 163-165 MiB; ratio 0.49 / 0.46 / 0.48 (0.42 /
0.41 / 0.45 before those two changes, on the same machine); 9.8 KiB per article.
20,000 pages, one round: bare 273 pages/s, qpan 107.5 (ratio 0.39; crawl process 8.17 ms, of it
3.06 in its database thread, page worker 7.62 ms CPU a page); per 2,000-page slice 92, 135, 114,
114, 108, 114, 116, 94, 111, 113 pages/s; resident MiB of the crawl and its worker at the end of
each slice 318, 328, 336, 346, 351, 357, 361, 368, 368, 369; 9.7 KiB per article.

After the page worker stopped importing SQLAlchemy and the pruning stopped judging inside
dropped blocks (2026-12-02, 2 vCPUs whose speed drifts by a fifth within minutes, nginx
0.05-0.075 ms CPU a page): bare 315 / 260 / 337 pages/s, qpan 139 / 145 / 137 (11.7-12.2 ms CPU a
page: crawl process 5.67-5.82, page worker 5.92-6.54), ratio 0.44 / 0.56 / 0.41; five rounds:
bare 321-411, qpan 151-170, ratio 0.48 / 0.47 / 0.41 / 0.44 / 0.48, median 0.47. 20,000 pages:
bare 500.7 pages/s, qpan 169.0 (ratio 0.34); slices 150, 189, 192, 178, 183, 169, 182, 181, 146,
173; resident MiB 286 -> 326; 9.7 KiB per article.

Last runs, after lighter crawl start-up (no cookies middleware, tldextract or feedparser unless
used), a count without Scrapy's attribute shim, no per-page DEBUG messages, and with qpan's
modules compiled ahead (2026-12-02, a host whose speed moved by a factor of 1.8 within a minute,
nginx 0.045-0.105 ms CPU a page): nine rounds, bare 363-588 pages/s, qpan 198-280 (6.21-8.59 ms
CPU a page), ratio 0.46 / 0.48 / 0.49 / 0.50 / 0.51 / 0.51 / 0.45 / 0.54 / 0.54, median 0.50;
five rounds, median 0.48 (0.41-0.60). 20,000 pages: bare 513.4 pages/s, qpan 202.5 (ratio 0.39;
0.48 and 0.42 in two earlier runs the same day); slices 160, 232, 219, 220, 222, 231, 218, 199,
186, 215; resident MiB 298 -> 351; 9.7 KiB per article.

With SQLite's 32 MiB page cache and checkpoints every 10,000 WAL pages (2026-12-02, nginx
0.045-0.09 ms CPU a page): rounds of three, three and nine, bare 414-601 pages/s, qpan 202-288
(5.94-8.29 ms CPU a page), ratio 0.49 / 0.48 / 0.49, 0.51 / 0.66 / 0.45 and 0.41 / 0.50 / 0.59 /
0.47 / 0.52 / 0.44 / 0.56 / 0.52 / 0.46 (median 0.50); 20,000 pages: bare 453.4 pages/s, qpan
244.0 (ratio 0.54; the database thread 1.38 ms a page against 1.55-1.77 before); slices 209, 267,
265, 237, 255, 258, 260, 225, 260, 263; resident MiB 282 -> 349; 9.7 KiB per article.
The WAL also folded back at the end of the crawl: bare 412-580 pages/s, qpan 202-303
(5.66-8.34 ms CPU a page), ratio 0.58 / 0.64 / 0.57 and 0.45 / 0.53 / 0.53 / 0.45 / 0.53 / 0.48 /
0.56 / 0.62 / 0.48 (median 0.53).

Last runs, the same code on a faster machine of the same kind (2026-12-02, later session; nginx
0.030-0.045 ms CPU a page): nine rounds, bare 697-830 pages/s (1.20-1.43 ms CPU a page), qpan
331-418 (4.18-5.23), ratio 0.47 / 0.50 / 0.49 / 0.47 / 0.49 / 0.57 / 0.45 / 0.51 / 0.52 (median
0.49); nine more with the ceiling printed: ratio 0.45-0.53 (median 0.49), qpan's CPU a page
3.27-3.90 times the bare spider's, so a ceiling of 0.51-0.62 (median 0.57), of which every round
reached 84-87 %. The round-to-round spread of the ratio is the spread of the CPU ratio; how well
the processes share the cores hardly moves. 20,000 pages: bare 966.2 pages/s, qpan 431.5 (ratio
0.45; crawl process 2.07 ms CPU a page, of it 0.79 in its other threads, page worker 1.94);
slices 486, 466, 486, 474, 477, 483, 478, 484, 470, 432; resident MiB 304 -> 358; 9.7 KiB per
article.
"""

from __future__ import annotations

import argparse
import compileall
import itertools
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

from qpan.demo.content import load_site  # noqa: E402
from qpan.demo.render import article_page, robots, sitemap_index, urlset  # noqa: E402
from qpan.timezone import VIETNAM  # noqa: E402

SITE_TOML = """name = "bench"
title = "Báo Benchmark"
article_path = "/{section}/{slug}-{id}.html"
dateline = "Cập nhật: {dd}/{mm}/{yyyy} {HH}:{MM}"
meta = ["jsonld", "opengraph", "time"]

[boilerplate]
after = ["Xem thêm: Tin cùng chuyên mục", "Bình luận (0)"]
"""

SITEMAP_SIZE = 500
SLICE = 2000

BARE_SPIDER = """
import sys
from scrapy.crawler import CrawlerProcess
from scrapy.spiders import SitemapSpider

class Bare(SitemapSpider):
    name = "bare"
    sitemap_urls = [sys.argv[1]]
    def parse(self, response):
        return None

concurrency = int(sys.argv[2])
process = CrawlerProcess({
    "LOG_LEVEL": "ERROR", "ROBOTSTXT_OBEY": True, "TELNETCONSOLE_ENABLED": False, "REMOTE_CONTROL_ENABLED": False,
    "CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
    "CONCURRENT_ITEMS": 1, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "COOKIES_ENABLED": False,
})
process.crawl(Bare)
process.start()
"""

SECTIONS = ["Thời sự", "Pháp luật", "Quốc phòng", "An ninh", "Kinh tế", "Xã hội", "Thế giới", "Giáo dục",
            "Sức khỏe", "Văn hóa", "Thể thao", "Đời sống", "Công nghệ", "Du lịch", "Bạn đọc", "Địa phương"]


def seed_text() -> tuple[list[str], list[str]]:
    """Sentences and words of the seeds: the raw material of the generated articles."""
    found, words = [], []
    for seed in sorted((REPO / "seeds").glob("*.txt")):
        for line in seed.read_text(encoding="utf-8").splitlines():
            found.extend(part.strip() + "." for part in line.split(". ") if len(part.split()) >= 8)
            words.extend(word.strip(".,;:()\"") for word in line.split() if word.isalpha())
    return found, words


def articles_toml(pages: int) -> str:
    """Distinct stories, as a news site has: word sequences drawn from the seeds' vocabulary,
    and in one article of four a sentence from a seed, so relevance and dedup have real work
    without every page being a near-copy of every other."""
    rng = random.Random(3)
    pool, words = seed_text()
    lines = []
    for number in range(1, pages + 1):
        paragraphs = [
            " ".join(" ".join(rng.choices(words, k=rng.randint(14, 24))).capitalize() + "." for _ in range(3))
            for _ in range(5)
        ]
        if number % 4 == 0:
            paragraphs.insert(1, rng.choice(pool))
        title = " ".join(rng.choices(words, k=10)).capitalize()
        lines += [
            "[[articles]]",
            f"id = {number}",
            f'published = "-{number % 20}d@08:00"',
            'section = "Thời sự"',
            f"title = {json.dumps(f'{title} ({number})', ensure_ascii=False)}",
            f"paragraphs = {json.dumps(paragraphs, ensure_ascii=False)}",
            "",
        ]
    return "\n".join(lines)


def chrome(rng: random.Random, links: list[tuple[str, str]], size: int) -> tuple[bytes, bytes]:
    """Site chrome of about ``size`` bytes: a menu on top; most-read boxes, a footer and inline
    scripts below, the parts of a real news page that extraction has to see past."""
    menu = "".join(f'<li><a href="/{i}-{s}/">{s}</a></li>' for i, s in enumerate(SECTIONS * 3))
    top = f'<header class="site-header"><nav class="menu"><ul>{menu}</ul></nav></header>'
    bottom = []
    total = len(top.encode())
    while total < size:
        picks = rng.sample(links, k=min(12, len(links)))
        box = "".join(
            f'<li class="item"><a href="{href}" title="{title}"><img src="/thumb/{rng.randrange(10**6)}.jpg" '
            f'alt="{title}"><span>{title}</span></a></li>'
            for href, title in picks
        )
        script = json.dumps({"zone": rng.randrange(10**5), "slots": [rng.randrange(10**9) for _ in range(20)]})
        block = (
            f'<section class="most-read"><h3>Đọc nhiều</h3><ul>{box}</ul></section>'
            f'<script>window.__ads = window.__ads || []; window.__ads.push({script});</script>'
            '<footer class="site-footer"><p>Cơ quan chủ quản: Báo Benchmark. Giấy phép số 123/GP-BTTTT. '
            "Địa chỉ: 1 Phố Lý Thường Kiệt, Hoàn Kiếm, Hà Nội. Điện thoại: 024 0000 0000.</p></footer>"
        )
        bottom.append(block)
        total += len(block.encode())
    return top.encode(), "".join(bottom).encode()


def render_site(root: Path, pages: int, base: str) -> Path:
    """Write the whole site under ``root/docroot``; returns the document root."""
    source = root / "site"
    source.mkdir()
    (source / "site.toml").write_text(SITE_TOML, encoding="utf-8")
    (source / "articles.toml").write_text(articles_toml(pages), encoding="utf-8")
    site = load_site(source, datetime.now(VIETNAM))
    docroot = root / "docroot"
    rng = random.Random(7)
    links = [(base + article.link, article.title) for article in site.articles]
    for article in site.articles:
        _, body = article_page(site, article, base)
        top, bottom = chrome(rng, links, rng.randint(25_000, 57_000) - len(body))
        body = body.replace(b"<body>", b"<body>" + top, 1).replace(b"</body>", bottom + b"</body>", 1)
        target = docroot / article.link.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    children = []
    for number, start in enumerate(range(0, len(site.articles), SITEMAP_SIZE), 1):
        chunk = site.articles[start : start + SITEMAP_SIZE]
        path = f"/sitemaps/bai-viet-{number}.xml"
        (docroot / "sitemaps").mkdir(exist_ok=True)
        (docroot / path.lstrip("/")).write_bytes(urlset(site, base, chunk, news=True))
        children.append((path, max(article.modified for article in chunk)))
    (docroot / "sitemap.xml").write_bytes(sitemap_index(base, children))
    (docroot / "robots.txt").write_bytes(robots(site, base, ["/sitemap.xml"]))
    for folder in [root, *root.rglob("*")]:
        if folder.is_dir():
            folder.chmod(0o755)  # nginx's worker runs as nobody
    return docroot


def compile_project() -> str:
    """qpan's own modules compiled to bytecode before any timed crawl, as pip compiles Scrapy's and
    every installed package's. A checkout run where ``PYTHONDONTWRITEBYTECODE`` is set (as on the
    machines these figures come from) otherwise compiles its sources anew in every crawl: 0.15-0.25 s
    of start-up that an installed qpan never pays and the bare spider's libraries never did."""
    for folder in ("qpan", "crawler", "pipelines", "scheduler"):
        compileall.compile_dir(REPO / folder, quiet=1)
    return "qpan's modules compiled ahead, as pip compiles an installed package's"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    kind: str
    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [self.process.pid, *map(int, children)]

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(f"/proc/{pid}/stat") or 0.0 for pid in self.pids())


NGINX_CONF = """worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    log_format bench '$msec $request_uri';
    access_log {log} bench;
    types {{ text/html html; application/xml xml; text/plain txt; }}
    default_type application/octet-stream;
    sendfile on;
    keepalive_requests 1000000;
    server {{ listen 127.0.0.1:{port}; root {docroot}; }}
}}
"""


@contextmanager
def serve(root: Path, docroot: Path, port: int) -> Iterator[Server]:
    log = root / "requests.log"
    nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if nginx:
        conf = root / "nginx.conf"
        conf.write_text(NGINX_CONF.format(root=root, log=log, port=port, docroot=docroot))
        command, kind = [nginx, "-c", str(conf), "-p", str(root)], "nginx (1 worker)"
    else:
        command = [sys.executable, str(REPO / "benchmarks" / "static_server.py"), str(docroot), str(port), str(log)]
        kind = "benchmarks/static_server.py (asyncio, files in memory)"
    process = subprocess.Popen(command)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"the benchmark server did not start: {' '.join(command)}") from None
            time.sleep(0.1)
    try:
        yield Server(kind, f"http://127.0.0.1:{port}", log, process)
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class Result:
    seconds: float
    memory: list[tuple[float, float]]  # (time, MiB resident of the crawl and its children), every 0.5 s
    own_cpu: float  # the crawl process alone (its last reading, up to 0.1 s before it ended)
    main_cpu: float  # of that, its main thread (the reactor); the rest is its other threads' (the database's)
    cpu: float  # the crawl process and the processes it waited for (its page workers)
    peak_rss_mb: float  # the largest of them
    started: float
    ended: float


def tree_rss_mb(root: int) -> float:
    """Resident MiB of ``root`` and its direct children (qpan's page workers), from /proc."""
    pids = [root]
    try:
        pids += [int(pid) for pid in Path(f"/proc/{root}/task/{root}/children").read_text().split()]
    except OSError:
        return 0.0
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total / 1024


def cpu_seconds(stat: str) -> float | None:
    """CPU (user + system) from a /proc stat file: ``/proc/PID/stat`` for a process without its
    children, ``/proc/PID/task/TID/stat`` for one of its threads; None once it is gone."""
    try:
        fields = Path(stat).read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_child(command: list[str], cwd: Path) -> Result:
    """Wall time, CPU (user + system) and peak RSS of one child process. The CPU includes the
    processes it waited for: qpan's page workers, which the crawl ends and reaps before it exits.
    The wall time ends when ``wait4`` returns (a blocking wait, not a poll: a 0.1 s poll added up
    to 0.1 s, 4 % of a bare crawl). A thread beside it reads the resident memory of the process
    and its children every 0.5 s, and the CPU of the process itself and of its main thread every
    0.1 s: the rest of the total is its page workers'."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("QPAN_")}
    out = cwd / "child.log"
    memory: list[tuple[float, float]] = []
    own = {"process": 0.0, "main thread": 0.0}  # last readings: the process stat goes with it
    done = threading.Event()

    def sample(pid: int) -> None:
        for tick in itertools.count():
            for name, stat in (("process", f"/proc/{pid}/stat"), ("main thread", f"/proc/{pid}/task/{pid}/stat")):
                own[name] = cpu_seconds(stat) or own[name]
            if tick % 5 == 0:
                memory.append((time.time(), tree_rss_mb(pid)))
            if done.wait(0.1):
                return

    with out.open("wb") as sink:
        started = time.time()
        clock = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT)
        sampler = threading.Thread(target=sample, args=(process.pid,), daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - clock
        ended = time.time()
        done.set()
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"benchmark crawl failed ({' '.join(command[:4])}…):\n{out.read_text()[-3000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return Result(seconds, memory, own["process"], own["main thread"], cpu, usage.ru_maxrss / 1024, started, ended)


def article_times(log: Path, start: float, end: float) -> list[float]:
    times = []
    for line in log.read_text().splitlines():
        stamp, _, path = line.partition(" ")
        if path.endswith(".html") and start <= float(stamp) <= end:
            times.append(float(stamp))
    return sorted(times)


def slice_rates(times: list[float]) -> list[float]:
    rates = []
    for first in range(0, len(times) - SLICE + 1, SLICE):
        span = times[first + SLICE - 1] - times[first]
        rates.append(SLICE / span if span > 0 else float("inf"))
    return rates


def slice_memory(times: list[float], memory: list[tuple[float, float]]) -> list[float]:
    """Resident MiB of the crawl (with its page workers) when each 2,000-page slice ended."""
    ends = [times[last] for last in range(SLICE - 1, len(times), SLICE)]
    return [next((mib for when, mib in reversed(memory) if when <= end), 0.0) for end in ends]


def stored_bytes_per_article(database: Path) -> tuple[int, float]:
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        count = connection.execute("SELECT count(*) FROM articles WHERE source = 'bench'").fetchone()[0]
    return count, database.stat().st_size / max(count, 1)


def qpan_config(path: Path, base: str, database: Path, concurrency: int) -> Path:
    path.write_text(
        f"""[database]
url = "sqlite:///{database}"

[crawl]
shipped_sources = false
download_delay = 0
autothrottle = false
concurrent_requests = {concurrency}
concurrent_per_domain = {concurrency}

[[sources]]
name = "bench"
home = "{base}/"
sitemaps = ["{base}/sitemap.xml"]
article_pattern = "-\\\\d+\\\\.html$"
""",
        encoding="utf-8",
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qpan-bench-") as scratch:
        root = Path(scratch)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        docroot = render_site(root, options.pages, base)
        sizes = [p.stat().st_size for p in docroot.rglob("*.html")]
        print(f"site: {len(sizes)} article pages, {min(sizes) // 1024}–{max(sizes) // 1024} KB "
              f"(mean {sum(sizes) / len(sizes) / 1024:.0f} KB)")
        template = root / "template.db"
        qpan = [sys.executable, "-m", "qpan", "--config"]
        subprocess.run([*qpan, str(qpan_config(root / "init.toml", base, template, options.concurrency)), "init"],
                       cwd=root, check=True, capture_output=True)
        print(f"bytecode: {compile_project()}")
        with serve(root, docroot, port) as server:
            print(f"server: {server.kind}")
            ratios: list[float] = []
            ceilings: list[float] = []  # the ratio qpan's CPU allows: all of it spread over every core, no wait
            cores = len(os.sched_getaffinity(0))
            for number in range(1, options.rounds + 1):
                server_before = server.cpu_seconds()
                bare = run_child([sys.executable, "-c", BARE_SPIDER, f"{base}/sitemap.xml",
                                  str(options.concurrency)], root)
                server_bare = server.cpu_seconds() - server_before
                database = root / f"round{number}.db"
                shutil.copy(template, database)
                config = qpan_config(root / f"round{number}.toml", base, database, options.concurrency)
                server_before = server.cpu_seconds()
                full = run_child([*qpan, str(config), "crawl", "--quiet"], root)
                server_full = server.cpu_seconds() - server_before
                pages = options.pages
                print(f"round {number}:")
                for name, result, server_cpu in (("bare Scrapy", bare, server_bare), ("qpan crawl", full, server_full)):
                    print(f"  {name:<12} {pages / result.seconds:7.1f} pages/s  {result.seconds:6.1f} s  "
                          f"CPU {result.cpu / pages * 1000:5.2f} ms/page  peak RSS {result.peak_rss_mb:6.1f} MiB  "
                          f"(server CPU {server_cpu / pages * 1000:.3f} ms/page)")
                main, others, workers = (seconds / pages * 1000 for seconds in (
                    full.main_cpu, full.own_cpu - full.main_cpu, full.cpu - full.own_cpu))
                print(f"  qpan CPU: crawl process {main + others:.2f} ms/page (main thread {main:.2f}, other "
                      f"threads {others:.2f}), page workers {workers:.2f} ms/page")
                ratios.append(bare.seconds / full.seconds)
                ceiling = bare.seconds / (full.cpu / cores)
                ceilings.append(ceiling)
                print(f"  ratio qpan / bare: {ratios[-1]:.2f}; CPU a page qpan / bare {full.cpu / bare.cpu:.2f}, so "
                      f"on {cores} cores at most {ceiling:.2f} ({ratios[-1] / ceiling:.0%} of it reached)")
                count, per_article = stored_bytes_per_article(database)
                print(f"  qpan stored {count} articles, {per_article / 1024:.1f} KiB of database per article")
                if options.pages > SLICE:
                    times = article_times(server.log, full.started, full.ended)
                    rates = slice_rates(times)
                    print("  qpan pages/s per 2,000-page slice: " + ", ".join(f"{rate:.0f}" for rate in rates))
                    print("  qpan resident MiB (crawl + page workers) at the end of each slice: "
                          + ", ".join(f"{mib:.0f}" for mib in slice_memory(times, full.memory)))
            if len(ratios) > 1:
                print(f"ratio over {len(ratios)} rounds: median {statistics.median(ratios):.2f}, "
                      f"{min(ratios):.2f}-{max(ratios):.2f}; ceiling median {statistics.median(ceilings):.2f}, "
                      f"{min(ceilings):.2f}-{max(ceilings):.2f}")


if __name__ == "__main__":
    main()
