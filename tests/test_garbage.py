"""The collector is paused during start-up and always back afterwards: a command that fails
before its crawl starts must not leave the process (a test runner, the scheduler) without one."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import write_config

from qpan import garbage
from qpan.demo import LocalWeb
from support.cli import run_qpan


@pytest.fixture(autouse=True)
def collector_as_before() -> Iterator[None]:
    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    gc.enable() if enabled else gc.disable()


def test_paused_holds_collections_and_gives_them_back_after_an_error() -> None:
    with pytest.raises(RuntimeError), garbage.paused():
        assert not gc.isenabled()
        raise RuntimeError("start-up failed")
    assert gc.isenabled()


def test_the_crawls_own_settings_end_the_pause() -> None:
    with garbage.paused():
        garbage.tune_for_throughput()
        assert gc.isenabled()
        assert gc.get_threshold() == garbage.THRESHOLDS
    assert gc.isenabled()


def test_a_crawl_that_fails_during_start_up_leaves_the_collector_on(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fixture_web: LocalWeb
) -> None:
    config = write_config(tmp_path, fixture_web)
    result = run_qpan(capsys, "--config", str(config), "crawl", "--source", "khongco")
    assert result.code == 2
    assert gc.isenabled()
