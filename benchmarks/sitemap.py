"""Sitemap benchmark: ``qpan crawl`` of one source whose sitemap lists 80,000 articles.

The local site (tests/support/sitemapsite.py) serves a 7.5 MB urlset, plain or gzipped,
every other entry dated outside ``since_days``. Figures, from the site's request log and the
child process:

- start: seconds from the sitemap request to the first article request;
- stop: seconds from SIGTERM (sent when the first article request arrives) to the exit;
- full: seconds for a whole crawl with ``max_sitemap_urls`` articles, and its peak RSS;
- parse: peak RSS of a bare process reading the sitemap through ``SitemapStream``, beside one
  building it as a whole tree with Scrapy's ``Sitemap`` (what qpan did before).

    python benchmarks/sitemap.py [--articles 80000] [--cap 5000] [--gzip] [--stop-only]

The full crawl fetches and extracts ``--cap`` pages: about 3.5 minutes with the default 5,000
on 2 shared cores.

Last runs (80,000 URLs, 2 shared cores, load average 9-12 from other work): start 0.23-0.53 s
(1.90-2.75 s in the busiest minutes); stop 2.69-4.12 s after SIGTERM, exit 130 (3.05 s with a
1,000-URL sitemap: the rest is Scrapy's and qpan's own shutdown); parse-only RSS growth +1 MB
streamed against +38 MB for the whole tree; full crawl of 5,000 articles from the gzipped sitemap
212.9 s, peak RSS 241 MB for the whole crawl process (228 MB with a cap of 200).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # its `support` package

from support.sitemapsite import SITEMAP_PATHS, SitemapSite, crawl_config, sitemap_site  # noqa: E402


def qpan(config: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("QPAN_")}
    return subprocess.Popen(
        [sys.executable, "-m", "qpan", "--config", str(config), *args],
        cwd=config.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def first_article_after_sitemap(site: SitemapSite) -> float:
    times = {path: at for at, path in reversed(site.log)}
    sitemap = min(at for path, at in times.items() if path in SITEMAP_PATHS)
    return min(at for at, path in site.log if path.startswith("/bai-viet-")) - sitemap


def crawl(folder: Path, site: SitemapSite, path: str, cap: int, stop: bool) -> dict[str, float]:
    shutil.copyfile(folder / "init.db", folder / "qpan.db")
    config = folder / "qpan.toml"
    config.write_text(crawl_config(site, folder / "qpan.db", path, cap))
    site.log.clear()
    started = time.monotonic()
    child = qpan(config, "crawl", "--quiet")
    figures: dict[str, float] = {}
    if stop:
        while not site.articles() and child.poll() is None:
            time.sleep(0.01)
        signalled = time.monotonic()
        child.send_signal(signal.SIGTERM)
        code = child.wait()
        figures["stop"] = time.monotonic() - signalled
    else:
        code = child.wait()
        figures["full"] = time.monotonic() - started
    figures["exit"] = code
    figures["start"] = first_article_after_sitemap(site)
    figures["articles"] = len(site.articles())
    return figures


PARSE = """
import resource, sys
from pathlib import Path
sys.path.insert(0, {repo!r})
from qpan.crawler.harvest.sitemaps import SitemapStream
from scrapy.utils.sitemap import Sitemap
body = Path({path!r}).read_bytes()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if {streamed}:
    count = sum(1 for _ in SitemapStream(body, "http://s.vn/sitemap.xml", len(body)))
else:
    count = len(list(Sitemap(body)))
print(count, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
"""


def parse_rss(path: Path, streamed: bool) -> str:
    """Peak RSS a fresh process adds while reading the sitemap file (imports and the body excluded)."""
    script = PARSE.format(repo=str(REPO), path=str(path), streamed=streamed)
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    count, grown = output.split()
    return f"{count} entries, +{float(grown):.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=80_000)
    parser.add_argument("--cap", type=int, default=5000)
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument("--stop-only", action="store_true", help="only the SIGTERM measurement")
    args = parser.parse_args()
    path = SITEMAP_PATHS[1] if args.gzip else SITEMAP_PATHS[0]
    with tempfile.TemporaryDirectory() as tmp, sitemap_site(args.articles) as site:
        folder = Path(tmp)
        (folder / "qpan.toml").write_text(f'[database]\nurl = "sqlite:///{folder / "init.db"}"\n')
        subprocess.run([sys.executable, "-m", "qpan", "--config", str(folder / "qpan.toml"), "init"],
                       check=True, capture_output=True)
        print(f"sitemap {path}: {args.articles} URLs, {len(site.bodies[path]) / 1e6:.1f} MB served")
        stopped = crawl(folder, site, path, args.cap, stop=True)
        print(f"SIGTERM at the first article request: start {stopped['start']:.2f} s after the sitemap request, "
              f"exit {stopped['exit']:.0f} after {stopped['stop']:.2f} s, {stopped['articles']:.0f} article requests")
        (folder / "sitemap.xml").write_bytes(site.bodies[SITEMAP_PATHS[0]])
        streamed, tree = parse_rss(folder / "sitemap.xml", True), parse_rss(folder / "sitemap.xml", False)
        print(f"parse only, peak RSS growth: streamed {streamed}; whole tree (Scrapy's Sitemap) {tree}")
        if args.stop_only:
            return
        full = crawl(folder, site, path, args.cap, stop=False)
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"full crawl, cap {args.cap}: {full['full']:.1f} s, first article {full['start']:.2f} s after the "
              f"sitemap request, {full['articles']:.0f} article requests, exit {full['exit']:.0f}, "
              f"peak RSS of the largest child {rss:.0f} MB")


if __name__ == "__main__":
    main()
