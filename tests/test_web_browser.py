"""The web view in a real browser: Debian's headless Chromium driven by Selenium through chromedriver.

Open the overview, filter the list, open an article, triage it, and check that the verdict was
stored, that no script from an article's content ran, and that the console stayed clean. Without
Chromium and chromedriver the test is skipped with the reason (``.ci/run`` installs both); under
``CI=true`` their absence is a failure. With ``QPAN_SCREENSHOTS=1`` the overview and article
screenshots the README shows are written to ``docs/``; otherwise they go to the test's temporary folder.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from qpan.config import config_from_dict
from qpan.storage.db import Database
from qpan.storage.models import Triage
from support.web import populate, populate_history, served

DOCS = Path(__file__).resolve().parents[1] / "docs"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def _need(what: str) -> None:
    reason = f"{what} is not installed (apt-get install chromium chromium-driver)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}, and CI=true requires the browser test", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def browser() -> Iterator[Any]:
    binary = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    driver_path = shutil.which("chromedriver")
    if binary is None:
        _need("Chromium")
    if driver_path is None:
        _need("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _need("selenium (pip install -e '.[test]')")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1100",
                     "--disable-gpu", "--lang=vi"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _screenshot(driver: Any, name: str, tmp_path: Path) -> None:
    folder = DOCS if os.environ.get("QPAN_SCREENSHOTS") == "1" else tmp_path
    width = driver.execute_script("return document.documentElement.scrollWidth")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(max(width, 1280), min(height + 40, 2400))
    assert driver.save_screenshot(str(folder / name))


def _errors(driver: Any) -> list[dict[str, Any]]:
    return [entry for entry in driver.get_log("browser") if entry["level"] in {"SEVERE", "ERROR"}]


def test_overview_filter_article_triage_in_chromium(
    browser: Any, sqlite_database: Database, tmp_path: Path
) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    def wait(condition: Callable[[Any], Any]) -> Any:
        """Until the page the last click asked for is there (a click does not wait for the navigation)."""
        return WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,)).until(condition)

    database = sqlite_database
    ids = populate(database)
    populate_history(database)
    with served(config_from_dict({}), database) as base:
        browser.get(base + "/")
        assert browser.find_element(By.TAG_NAME, "h1").text == "Overview"
        assert browser.find_elements(By.CSS_SELECTOR, "svg.chart rect")
        assert browser.find_elements(By.CSS_SELECTOR, "table.health svg.spark polyline")
        _screenshot(browser, "web-overview.png", tmp_path)

        browser.find_element(By.LINK_TEXT, "Articles").click()
        wait(lambda driver: driver.current_url.endswith("/articles"))
        browser.find_element(By.NAME, "q").send_keys("nghi dinh bam")
        Select(browser.find_element(By.NAME, "relevance")).select_by_value("all")
        browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
        wait(lambda driver: "q=nghi+dinh+bam" in driver.current_url)
        assert "relevance=all" in browser.current_url
        rows = browser.find_elements(By.CSS_SELECTOR, "table.articles tbody tr td a[href^='/articles/']")
        assert len(rows) == 1, "the diacritic-free search finds the one article with 'bấm'"

        rows[0].click()
        wait(lambda driver: driver.current_url.endswith(f"/articles/{ids['xss']}"))
        assert "<script>window.qpanPwned=1</script>" in browser.find_element(By.TAG_NAME, "h1").text
        assert browser.execute_script("return typeof window.qpanPwned") == "undefined"
        assert not browser.find_elements(By.CSS_SELECTOR, "main img, main script, a[href^='javascript']")

        browser.find_element(By.NAME, "note").send_keys("tin giả mạo, không phải phối hợp")
        browser.find_element(By.CSS_SELECTOR, "button[value=not_relevant]").click()
        wait(lambda driver: "not relevant — tin giả mạo" in driver.find_element(By.ID, "triage").text)
        assert browser.current_url.endswith(f"/articles/{ids['xss']}")
        browser.refresh()
        assert "not relevant — tin giả mạo" in browser.find_element(By.ID, "triage").text
        assert browser.execute_script("return typeof window.qpanPwned") == "undefined"

        browser.get(f"{base}/articles/{ids['original']}")
        assert browser.find_elements(By.CSS_SELECTOR, "section.text mark")
        _screenshot(browser, "web-article.png", tmp_path)
        errors = _errors(browser)
    with database.session() as session:
        stored = session.scalars(select(Triage).where(Triage.article_id == ids["xss"])).all()
    assert [(row.verdict, row.note) for row in stored] == [("not_relevant", "tin giả mạo, không phải phối hợp")]
    assert errors == []
