"""Where a full crawl's CPU goes, stage by stage: a py-spy profile of ``qpan crawl``.

The crawl is the one of ``benchmarks/crawl.py`` (pre-rendered 25–60 KB pages, nginx or the
in-memory server). py-spy samples the stacks of the crawl process and of its page workers
(``--subprocesses --nonblocking``, 200 Hz); each sample is charged to its process and to the
innermost frame that belongs to one of qpan's stages, so time spent in lxml under the extractor
counts as extraction and SQLite under the store counts as store; a sample with no qpan stage on
its stack is Scrapy/Twisted/asyncio machinery, or start-up when it is inside the import system.
Shares are of all samples of both processes; on a loaded machine a thread waiting for a core
still counts, so profile on an idle one. Optimisations are chosen from these shares.

    pip install py-spy
    python benchmarks/profile_crawl.py [--pages 2000]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import crawl as bench  # noqa: E402

# (category, path fragment of a frame's file), innermost match wins; order breaks ties in one frame.
STAGES = [
    ("start-up imports", "<frozen importlib._bootstrap"),
    ("page-worker traffic (pickling, pipes)", "qpan/workers.py"),
    ("middleware: seen-URL filter", "crawler/middlewares/seen.py"),
    ("middleware: conditional requests", "crawler/middlewares/conditional.py"),
    ("middleware: retry", "crawler/middlewares/retry.py"),
    ("middleware: accounting", "crawler/middlewares/accounting.py"),
    ("middleware: domain guard", "crawler/middlewares/domains.py"),
    ("middleware: meta refresh", "crawler/middlewares/metarefresh.py"),
    ("extensions (progress, summary, throttle)", "crawler/extensions/"),
    ("harvest (sitemaps, feeds, links)", "crawler/harvest/"),
    ("extraction", "crawler/extraction/"),
    ("extraction", "crawler/loaders.py"),
    ("spider", "crawler/spiders/"),
    ("clean", "pipelines/cleaning.py"),
    ("clean", "pipelines/stages/clean.py"),
    ("relevance", "pipelines/relevance.py"),
    ("relevance", "pipelines/stages/relevance.py"),
    ("dedup", "pipelines/dedup.py"),
    ("dedup", "pipelines/stages/dedup.py"),
    ("search words", "qpan/storage/search.py"),  # before "store": its folder is qpan/storage/
    ("store", "pipelines/stages/store.py"),
    ("store", "qpan/storage/"),
    ("normalise", "pipelines/normalize.py"),
    ("prepare (the job around clean, relevance, fingerprint)", "pipelines/stages/prepare.py"),
    ("fingerprint", "pipelines/stages/fingerprint.py"),
]


def category(stack: str) -> str:
    """A py-spy raw stack is ``process…;[child process…;]thread…;frame;…`` from the root to the leaf."""
    frames = stack.split(";")
    processes = [frame for frame in frames if frame.startswith("process ")]
    process = "page worker" if any("qpan.workers" in frame for frame in processes) else "crawl process"
    for frame in reversed(frames):
        for name, fragment in STAGES:
            if fragment in frame:
                return f"{process}: {name}"
    return f"{process}: Scrapy / Twisted / asyncio machinery and the rest"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    options = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    with tempfile.TemporaryDirectory(prefix="qpan-profile-") as scratch:
        root = Path(scratch)
        port = bench.free_port()
        base = f"http://127.0.0.1:{port}"
        docroot = bench.render_site(root, options.pages, base)
        database = root / "qpan.db"
        config = bench.qpan_config(root / "qpan.toml", base, database, options.concurrency)
        qpan = [sys.executable, "-m", "qpan", "--config", str(config)]
        subprocess.run([*qpan, "init"], cwd=root, check=True, capture_output=True)
        profile = root / "profile.txt"
        with bench.serve(root, docroot, port) as server:
            print(f"server: {server.kind}; {options.pages} pages; bytecode: {bench.compile_project()}")
            subprocess.run(
                [spy, "record", "--subprocesses", "--nonblocking", "--rate", "200", "--format", "raw",
                 "--output", str(profile), "--", *qpan, "crawl", "--quiet"],
                cwd=root, check=True, capture_output=True,
            )
        samples: Counter[str] = Counter()
        for line in profile.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            samples[category(stack)] += int(count)
    total = sum(samples.values()) or 1
    for name, count in samples.most_common():
        print(f"{count / total * 100:5.1f} %  {name}")
    print(f"({total} samples)")


if __name__ == "__main__":
    main()
