"""Helpers for the desk's browser tests (no tests here): Debian's Chromium through its chromedriver
(Selenium), a click that waits for the next page, the holders' step, and screenshots only on demand."""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

import pytest

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def need_browser():
    missing = [p for p in (CHROMIUM, DRIVER) if not Path(p).exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium")
    if missing:
        message = f"a real browser is needed: {missing} missing (.ci/run installs chromium and chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def driver_for(profile: Path, downloads: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=1400,1000"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    return driver


class Shots:
    """Screenshots into FACESEL_REVIEW_SCREENSHOTS, only when it is set."""

    def __init__(self, driver):
        self.driver, self.folder = driver, os.environ.get("FACESEL_REVIEW_SCREENSHOTS")

    def __call__(self, name: str) -> None:
        if self.folder:
            Path(self.folder).mkdir(parents=True, exist_ok=True)
            self.driver.save_screenshot(str(Path(self.folder) / f"review-{name}.png"))


def downloaded_zip(folder: Path, timeout: float = 120.0) -> Path:
    """The one ``*.zip`` Chromium downloaded into ``folder``, once whole: no ``.crdownload`` left
    and a readable zip (Chromium may show the final name before the last bytes are in). Polled
    up to ``timeout`` s, a bound and not a measurement; AssertionError past it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        zips = sorted(folder.glob("*.zip"))
        if len(zips) == 1 and not list(folder.glob("*.crdownload")) and zipfile.is_zipfile(zips[0]):
            return zips[0]
        time.sleep(0.2)
    raise AssertionError(f"no whole zip downloaded into {folder} in {timeout} s: {sorted(os.listdir(folder))}")


def click(driver, element_id: str) -> None:
    """Click a submit button and wait until the next page has replaced this one."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.ID, element_id).click()
    WebDriverWait(driver, 60).until(expected_conditions.staleness_of(page))


def add_share(driver, share: Path, passphrase: str) -> str:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "share").send_keys(str(share))
    driver.find_element(By.ID, "passphrase").send_keys(passphrase)
    click(driver, "add-share")
    found = driver.find_elements(By.ID, "message")
    return found[0].text if found else ""


def progress(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, "progress").text
