"""The command surface: every command documented, summaries whole, one meaning per flag, quiet pipes."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from support.cli import run_qpan

README = Path(__file__).parents[1] / "README.md"


def help_commands(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, str]:
    """``{command: summary}`` from the Commands section of ``qpan [ARGS] --help``."""
    text = run_qpan(capsys, *args, "--help").stdout
    section = text.split("Commands:", 1)[1]
    return dict(re.findall(r"^  (\S+)\s+(.*)$", section, re.MULTILINE))


def test_every_command_is_in_the_readme_table(capsys: pytest.CaptureFixture[str]) -> None:
    documented = set(re.findall(r"^\| `qpan ([a-z-]+(?: [a-z]+)?)", README.read_text("utf-8"), re.MULTILINE))
    commands = help_commands(capsys)
    missing = [name for name in commands if name not in {d.split()[0] for d in documented}]
    assert not missing, f"commands missing from the README's command table: {missing}"
    for group in ("alerts", "db", "config"):
        for sub in help_commands(capsys, group):
            assert f"{group} {sub}" in documented, f"`qpan {group} {sub}` missing from the README"


def test_help_summaries_are_whole(capsys: pytest.CaptureFixture[str]) -> None:
    for name, summary in help_commands(capsys).items():
        assert not summary.endswith("..."), f"{name}: {summary}"


def test_q_is_not_search(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_qpan(capsys, "articles", "-q", "nghi dinh")
    assert result.code == 2 and "No such option" in result.stderr


@pytest.fixture
def project(initialised_workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COLUMNS", "250")  # tables wide enough to read back whole, whatever the terminal
    return initialised_workdir


def test_seeds_are_listed_only_when_asked(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "no articles match" in run_qpan(capsys, "articles", "--all").stdout
    seeds = run_qpan(capsys, "articles", "--all", "--include-seeds", "--format", "csv").stdout.splitlines()
    assert len(seeds) == 1 + 5


def test_tables_label_the_offset(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with sqlite3.connect(project / "qpan.db") as connection:
        connection.execute(
            "INSERT INTO crawl_runs (started_at, status, trigger) VALUES ('2026-11-23 04:17:00.000000', 'ok', 'cli')"
        )
    assert "2026-11-23 11:17 +07:00" in run_qpan(capsys, "runs").stdout
    listed = run_qpan(capsys, "articles", "--all", "--include-seeds").stdout
    assert "+07:00" in listed


def test_init_leaves_someone_elses_database_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "accounts.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY)")
    monkeypatch.setenv("QPAN_DATABASE_URL", f"sqlite:///{other}")
    refused = run_qpan(capsys, "init")
    assert refused.code == 2 and "other table" in refused.stderr and "--force" in refused.stderr
    with sqlite3.connect(other) as connection:
        assert [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")] == [
            "accounts"
        ]
    assert run_qpan(capsys, "init", "--force").code == 0


@pytest.mark.parametrize(
    "args",
    [
        ["export", "--format", "csv", "--include-seeds"],
        ["export", "--format", "atom"],
        ["articles", "--all", "--include-seeds", "--format", "json"],
    ],
)
def test_a_closed_pipe_ends_quietly(project: Path, args: list[str]) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("QPAN_")}
    child = subprocess.Popen(
        [sys.executable, "-m", "qpan", *args], cwd=project, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()
    stderr = child.stderr.read()
    assert child.wait(timeout=60) == 0
    assert stderr == b""


# a command that meets a broken pipe once its stdin says so (after the test has closed or kept its stdout)
BROKEN_PIPE_SCRIPT = """
import sys
from qpan import cli

def broken(argv):
    sys.stdin.readline()
    raise BrokenPipeError(32, "Broken pipe")

cli._run = broken
cli.main([])
"""


@pytest.mark.parametrize("reader_gone", [True, False])
def test_only_a_closed_stdout_makes_a_broken_pipe_quiet(reader_gone: bool) -> None:
    """A broken pipe that is not stdout's (a page worker's) is an error: exit 0 with no output
    once hid a crawl stopped during start-up."""
    child = subprocess.Popen(
        [sys.executable, "-c", BROKEN_PIPE_SCRIPT],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    if reader_gone:
        child.stdout.close()
    child.stdin.write(b"go\n")
    child.stdin.close()
    stderr = child.stderr.read().decode()
    code = child.wait(timeout=60)
    if reader_gone:
        assert (code, stderr) == (0, "")
    else:
        assert child.stdout.read() == b""
        assert (code, stderr) == (1, "qpan: [Errno 32] Broken pipe\n")


def test_runs_id_shows_the_run_source_by_source(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from qpan.storage.db import Database
    from support.alerting import new_run

    database = Database(f"sqlite:///{project / 'qpan.db'}")
    run_id = new_run(database, {
        "baobackan": {"reached": True, "fetched": 7, "new": 3},
        "vnexpress": {"reached": False, "errors": 1, "error_text": "DNS lookup failed for https://vnexpress.net/"},
    })
    database.dispose()
    table = run_qpan(capsys, "runs", str(run_id))
    assert table.code == 0
    lines = {line.split("│")[1].strip(): line for line in table.stdout.splitlines() if line.count("│") > 3}
    assert "7" in lines["baobackan"] and "DNS lookup failed" in lines["vnexpress"]
    assert run_qpan(capsys, "runs", "99").code == 1
