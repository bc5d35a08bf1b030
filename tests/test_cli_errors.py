"""Inputs a user can type that once ended in a traceback: each is now one line and an exit code."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from support.cli import CliResult, run_qpan

READING_COMMANDS = [
    ["articles"],
    ["show", "1"],
    ["runs"],
    ["sources"],
    ["export"],
    ["alerts"],
    ["crawl", "--quiet"],
]


def one_line(result: CliResult) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def project(workdir: Path) -> Path:
    return workdir


@pytest.fixture
def initialised(initialised_workdir: Path) -> Path:
    return initialised_workdir / "qpan.db"


@pytest.mark.parametrize("command", READING_COMMANDS + [["init"]], ids=lambda c: c[0])
def test_a_database_from_a_newer_qpan_is_named_newer(
    initialised: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    with sqlite3.connect(initialised) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    result = run_qpan(capsys, *command)
    assert result.code == 1
    line = one_line(result)
    assert "NEWER than this qpan" in line and "upgrade qpan" in line and "9999" in line


@pytest.mark.parametrize("command", READING_COMMANDS + [["init"]], ids=lambda c: c[0])
def test_a_missing_theme_profile_stops_every_command(
    project: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    (project / "qpan.toml").write_text('[topic]\nprofile = "my-theme.toml"\n', encoding="utf-8")
    result = run_qpan(capsys, *command)
    assert result.code == 2
    line = one_line(result)
    assert "topic.profile" in line and "my-theme.toml" in line and "qpan.toml" in line
    assert not (project / "qpan.db").exists()


def test_init_with_a_broken_profile_creates_no_schema(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "theme.toml").write_text("not [valid toml", encoding="utf-8")
    (project / "qpan.toml").write_text('[topic]\nprofile = "theme.toml"\n', encoding="utf-8")
    result = run_qpan(capsys, "init")
    assert result.code == 2 and "theme.toml" in one_line(result)
    assert not (project / "qpan.db").exists()


def test_the_profile_is_found_beside_the_config(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = project / "etc"
    folder.mkdir()
    (folder / "theme.toml").write_text((Path(__file__).parents[1] / "pipelines" / "theme.toml").read_text("utf-8"))
    (folder / "qpan.toml").write_text('[topic]\nprofile = "theme.toml"\n', encoding="utf-8")
    assert run_qpan(capsys, "-c", str(folder / "qpan.toml"), "init").code == 0


@pytest.mark.parametrize("url", ["mysql://user:secret@db.example.org/qpan", "oracle+cx_oracle://u:p@h/x", "foo://h/x"])
@pytest.mark.parametrize("command", [["articles"], ["init"], ["runs"], ["crawl", "--quiet"]], ids=lambda c: c[0])
def test_a_database_without_its_driver_is_a_config_error(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, url: str, command: list[str]
) -> None:
    monkeypatch.setenv("QPAN_DATABASE_URL", url)
    result = run_qpan(capsys, *command)
    assert result.code == 2
    line = one_line(result)
    assert line.startswith("qpan: config error: database URL") and "secret" not in line


def test_show_refuses_csv(initialised: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_qpan(capsys, "show", "1", "--format", "csv")
    assert result.code == 2 and "csv" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("article_id", ["99999999999999999999999", "0", "-5"])
def test_show_of_an_impossible_id_is_no_article(
    initialised: Path, capsys: pytest.CaptureFixture[str], article_id: str
) -> None:
    result = run_qpan(capsys, "show", "--", article_id)
    assert result.code == 1
    assert one_line(result) == f"qpan: no article with id {int(article_id)}"


@pytest.mark.parametrize(
    "args",
    [
        ["crawl", "--since", "99999999999"],
        ["articles", "--since", "99999999999d"],
        ["articles", "--limit", "99999999999999999999"],
        ["runs", "--limit", "99999999999999999999"],
        ["export", "--since", "9999999999999w"],
    ],
    ids=lambda a: " ".join(a),
)
def test_out_of_range_numbers_are_usage_errors(
    initialised: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    result = run_qpan(capsys, *args)
    assert result.code == 2
    assert "Traceback" not in result.stderr and "Error: Invalid value" in result.stderr


def test_config_since_days_out_of_range(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "qpan.toml").write_text("[crawl]\nsince_days = 99999999999\n", encoding="utf-8")
    result = run_qpan(capsys, "crawl")
    assert result.code == 2 and "crawl.since_days" in one_line(result)


def test_a_database_error_names_the_file_not_the_sql(initialised: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with sqlite3.connect(initialised) as connection:
        connection.execute("DROP TABLE articles")
    result = run_qpan(capsys, "articles", "--search", "nghi dinh")
    assert result.code == 1
    line = one_line(result)
    assert str(initialised.resolve()) in line
    assert "SELECT" not in line and len(line) < 300


@pytest.mark.parametrize("database", ['[database]\nurl = "sqlite:///data/q.db"\n', ""], ids=["relative", "default"])
def test_the_database_path_is_relative_to_the_config_file(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, database: str
) -> None:
    etc = project / "etc"
    (etc / "data").mkdir(parents=True)
    (etc / "qpan.toml").write_text(database, encoding="utf-8")
    elsewhere = project / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert run_qpan(capsys, "-c", str(etc / "qpan.toml"), "init").code == 0
    expected = etc / ("data/q.db" if database else "qpan.db")
    assert expected.exists() and not list(elsewhere.iterdir())
    assert run_qpan(capsys, "-c", "../etc/qpan.toml", "articles", "--include-seeds").code == 0


def test_the_database_url_from_the_environment_is_relative_to_the_working_directory(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    etc = project / "etc"
    etc.mkdir()
    (etc / "qpan.toml").write_text("", encoding="utf-8")
    monkeypatch.setenv("QPAN_DATABASE_URL", "sqlite:///here.db")
    assert run_qpan(capsys, "-c", str(etc / "qpan.toml"), "init").code == 0
    assert (project / "here.db").exists() and not (etc / "here.db").exists()
