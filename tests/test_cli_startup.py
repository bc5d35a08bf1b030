"""Start-up stays light: a command imports only what it uses (measured in seconds on a busy machine).

The figures are in the README; here the test is which heavy libraries a command loads at all,
which does not depend on the machine's speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from qpan.commands.alerts import Status
from qpan.commands.triage import Verdict
from qpan.scheduler import outbox
from qpan.storage import triage
from qpan.storage.db import Database
from qpan.storage.migrate import alembic_config, known_revisions

HEAVY = ("alembic", "scrapy", "twisted", "datasketch", "scipy", "apprise", "sqlalchemy", "pydantic", "rich")
PROBE = """
import atexit, json, sys
top = lambda: sorted({m.split('.')[0] for m in sys.modules})
atexit.register(lambda: sys.__stderr__.write("\\nLOADED " + json.dumps(top()) + "\\n"))
from qpan.cli import main
main(sys.argv[1:])
"""


def loaded(folder: Path, *args: str, among: tuple[str, ...] = HEAVY) -> set[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("QPAN_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )
    line = done.stderr.rsplit("LOADED ", 1)[-1]
    return set(json.loads(line)) & set(among)


def test_version_and_help_load_no_heavy_library(tmp_path: Path) -> None:
    assert loaded(tmp_path, "--version") == set()
    assert loaded(tmp_path, "--help") == set()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("startup")
    env = {key: value for key, value in os.environ.items() if not key.startswith("QPAN_")}
    subprocess.run([sys.executable, "-m", "qpan", "init"], cwd=folder, env=env, check=True, capture_output=True)
    return folder


@pytest.mark.parametrize("args", [["articles"], ["runs"], ["show", "1"], ["export"]], ids=lambda a: a[0])
def test_reading_commands_need_no_alembic_scrapy_or_scipy(project: Path, args: list[str]) -> None:
    assert not loaded(project, *args) & {"alembic", "scrapy", "twisted", "datasketch", "scipy", "apprise"}


def test_extract_needs_no_database_or_scipy(project: Path) -> None:
    page = next(Path(__file__).with_name("pages").glob("*/*.html"))
    assert not loaded(project, "extract", str(page), "--url", "https://example.org/a-1.html") & {
        "alembic", "datasketch", "scipy", "apprise", "sqlalchemy"
    }


def test_the_page_workers_start_before_scrapy_is_imported() -> None:
    """``qpan crawl`` spawns its page workers first, so their imports overlap the crawl process's
    own; that is only worth it while what spawns them imports no Scrapy (crawler/prestart.py)."""
    probe = "import sys, qpan.crawler.prestart; print(sorted({'scrapy', 'twisted'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_a_crawl_loads_neither_aiohttp_nor_what_its_sources_do_not_use(tmp_path: Path) -> None:
    """Scrapy imports every extension its settings name to sort them, and the remote-control one
    imports aiohttp (0.08 s of every crawl's start-up): qpan's settings leave it out of the base list.
    feedparser (15 ms) waits for a feed, which this source has none of, and tldextract with the
    requests it brings (30 ms) for a registrable domain, which only extraction asks for."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on: the crawl is built, then fails fast
        probe.bind(("127.0.0.1", 0))
        home = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    config = tmp_path / "qpan.toml"
    config.write_text(
        '[crawl]\nshipped_sources = false\ndownload_delay = 0\n'
        f'[[sources]]\nname = "gone"\nhome = "{home}"\nlistings = ["{home}"]\n',
        encoding="utf-8",
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("QPAN_")}
    subprocess.run([sys.executable, "-m", "qpan", "--config", str(config), "init"], cwd=tmp_path, env=env, check=True,
                   capture_output=True)
    among = ("scrapy", "aiohttp", "feedparser", "tldextract", "requests")
    assert loaded(tmp_path, "--config", str(config), "crawl", "--quiet", among=among) == {"scrapy"}


def test_the_schema_check_knows_what_alembic_knows(tmp_path: Path) -> None:
    script = ScriptDirectory.from_config(alembic_config(Database(f"sqlite:///{tmp_path / 'q.db'}")))
    revisions, head = known_revisions()
    assert revisions == {s.revision for s in script.walk_revisions()}
    assert head == script.get_current_head()


def test_the_outbox_states_are_spelled_as_the_outbox_spells_them() -> None:
    assert [s.value for s in Status] == [outbox.PENDING, outbox.SENDING, outbox.SENT, outbox.FAILED, outbox.UNKNOWN]
    assert [v.value for v in Verdict] == [triage.RELEVANT, triage.NOT_RELEVANT, triage.READ]
