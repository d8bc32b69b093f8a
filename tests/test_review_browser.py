"""The investigator's desk in a real headless Chromium (Debian's chromium + chromedriver, Selenium):
find, refuse (1 of 3, wrong passphrase, rate limit, duplicate, wrong authority), open with 2 of 3,
view snapshot, clip and plot, export a bundle, verify it, tamper with it, end the session; the
audit log holds every step in order and no plaintext picture is left on disk.

Screenshots for docs/review.md are written only when FACESEL_REVIEW_SCREENSHOTS names a folder
(they show faces of the demo clip, so a normal run writes none).
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest
from facesel.cli import main
from facesel.vault.audit import AuditLog
from facesel.vault.audit import verify as verify_audit
from facesel.vault.identity import load_identity

from review_browser import Shots, add_share, click, downloaded_zip, driver_for, need_browser, progress
from review_common import demo_vault, review_server

def _events(vault: Path) -> list[dict]:
    return AuditLog(vault / "audit.log").entries()


def _scan(roots: list[Path], needles: list[bytes], since: float, skip: list[Path], ours: Path | None = None) -> list[str]:
    """Files under ``roots`` changed since ``since`` that hold any of ``needles``, outside ``skip``
    and outside other pytest sessions' base folders (``pytest-of-*/pytest-N`` other than ``ours``)."""
    hits, skip = [], [p.resolve() for p in skip]
    ours = None if ours is None else ours.resolve()
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root, onerror=lambda e: None):
            here = Path(dirpath).resolve()
            if any(here == s or s in here.parents for s in skip) or _another_session(here, ours):
                dirnames[:] = []
                continue
            dirnames[:] = [d for d in dirnames if d not in (".git", "proc")]
            for name in filenames:
                path = here / name
                try:
                    st = path.lstat()
                    if not path.is_file() or path.is_symlink() or st.st_mtime < since or st.st_size > 200 << 20:
                        continue
                    data = path.read_bytes()
                except OSError:
                    continue
                if any(n in data for n in needles):
                    hits.append(str(path))
    return hits


def _another_session(folder: Path, ours: Path | None) -> bool:
    """Whether ``folder`` (resolved) is the base folder of a pytest session other than ``ours``.
    Other pytest sessions on the same machine (a developer's, another checkout's) write the same
    demo clip's crops into their own base folders: not this desk's doing (seen on the shared box,
    sessions 15 and 19). Decided as the walk enters each folder, never from a list made before it:
    in session 19 another session's folder (pytest-826) was made after such a list, while this test
    walked the temporary folder, and its archive's crop.png was counted as this desk's."""
    return (ours is not None and folder != ours and folder.parent.name.startswith("pytest-of-")
            and re.fullmatch(r"pytest-\d+", folder.name) is not None)


# Seconds a holder waits after a wrong passphrase. The test's next try must come within it to be
# refused: 1.5 s left the browser round trip (page load, file upload, typing) little room on a
# loaded machine, and 6 s is two or three such round trips under a CI run's load; 20 s costs the
# test the rest of the wait (slept until it is over, below) and is a bound no browser step nears.
PASSPHRASE_DELAY = 20.0


@pytest.mark.slow
def test_desk_finds_opens_two_of_three_views_exports_and_leaves_no_plaintext(tmp_path, tmp_path_factory, capsys):
    need_browser()
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    started = time.time() - 1
    built = demo_vault(tmp_path / "work")
    vault, shares, phrases = built["vault"], built["shares"], built["passphrases"]
    assert main(["authority", "init", "--out", str(tmp_path / "other"), "--shares", "3", "--threshold", "2",
                 "--no-passphrase"]) == 0
    foreign_share = tmp_path / "other" / "shares" / "share-1-of-3.json"
    record_count = len(list((vault / "records").glob("*.fsr")))
    assert record_count >= 1
    exports, profile = tmp_path / "exports", tmp_path / "profile"
    exports.mkdir()
    capsys.readouterr()
    # A zone other than UTC, so that local and UTC times differ on the page (as for most investigators).
    with review_server(vault, built["keystore"], "--passphrase-delay", str(PASSPHRASE_DELAY),
                       tz="Europe/Amsterdam") as served:
        url = served.url
        driver = driver_for(profile, exports)
        shot = Shots(driver)
        try:
            # Find: metadata only, counts per camera and day, human times (local and UTC).
            driver.get(url)
            base = driver.current_url.rstrip("/")  # the session's pages lie under its secret path
            rows = driver.find_elements(By.CSS_SELECTOR, "#records tbody tr")
            assert len(rows) == record_count
            cells = [c.text for c in rows[0].find_elements(By.TAG_NAME, "td")]
            offset = {"CET (+0100)": 1, "CEST (+0200)": 2}[cells[1][20:]]  # winter or summer time
            assert cells[2].endswith(" UTC") and cells[3] == "demo-cam-1"
            local_hour, utc_hour = int(cells[1][11:13]), int(cells[2][11:13])
            assert (utc_hour + offset) % 24 == local_hour  # the same instant, never a Unix float
            counts = driver.find_element(By.ID, "counts").text
            assert "demo-cam-1" in counts and str(record_count) in counts
            assert driver.find_elements(By.TAG_NAME, "img") == []
            assert driver.find_element(By.ID, "no-faces-banner").is_displayed()
            shot("1-find")
            # A quality floor above every record finds none; the filter works on real metadata.
            driver.find_element(By.NAME, "min_quality").send_keys("1000")
            click(driver, "search")
            assert driver.find_elements(By.CSS_SELECTOR, "#records tbody tr") == []
            driver.get(base + "/")
            # Request an opening of every record; each is named by camera and id (session 21).
            picks = driver.find_elements(By.CSS_SELECTOR, "input.pick")
            assert all(b.get_attribute("value").startswith("demo-cam-1/") for b in picks)
            assert not driver.find_elements(By.ID, "acknowledge-after-revocation")  # a vault flags nothing
            for box in picks:
                box.click()
            driver.find_element(By.ID, "case").send_keys("CASE-2026-0042")
            driver.find_element(By.ID, "reason").send_keys("court order 17/2026")
            driver.find_element(By.ID, "opened_by").send_keys("investigator A")
            click(driver, "request-open")
            assert "0 of 2 shares" in progress(driver)
            shot("2-holders")
            # Refusals: wrong passphrase, then the rate limit, a foreign share, a duplicate.
            message = add_share(driver, shares[0], "not the passphrase at all")
            refused_at = time.monotonic()  # after the server counted the failure
            assert "wrong passphrase" in message and "0 of 2" in progress(driver)
            shot("3-wrong-passphrase")
            assert "too many attempts" in add_share(driver, shares[0], phrases[0])
            assert "0 of 2" in progress(driver)
            time.sleep(max(0.0, refused_at + PASSPHRASE_DELAY + 0.1 - time.monotonic()))  # the wait is over
            assert "share 1 accepted" in add_share(driver, shares[0], phrases[0])
            assert "1 of 2 shares" in progress(driver)
            shot("4-one-of-two")
            assert "given twice" in add_share(driver, shares[0], phrases[0])
            assert "share of authority" in add_share(driver, foreign_share, "")
            # 1 of 3: nothing is open, nothing logged, no picture reachable.
            assert not [e for e in _events(vault) if e["event"] == "open"]
            driver.get(base + "/opening")
            assert driver.find_elements(By.CSS_SELECTOR, "img.snapshot") == []
            driver.get(base + "/open/holders")
            # The second holder: 2 of 3 opens, logged before the page and its pictures are sent.
            add_share(driver, shares[2], phrases[2])
            assert driver.find_element(By.ID, "faces-banner").is_displayed()
            snapshots = driver.find_elements(By.CSS_SELECTOR, "img.snapshot")
            assert len(snapshots) == record_count
            assert all(driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", s) > 0
                       for s in snapshots)
            player = driver.find_element(By.CSS_SELECTOR, ".player")
            label = player.find_element(By.CSS_SELECTOR, ".frame-label")
            first = label.text
            player.find_element(By.CSS_SELECTOR, ".play").click()
            # the clip plays: its frame label moves on (waited for, not slept: a loaded browser is slow)
            WebDriverWait(driver, 60).until(lambda _: label.text != first)
            player.find_element(By.CSS_SELECTOR, ".play").click()
            assert driver.find_elements(By.CSS_SELECTOR, "svg.plot circle")  # chosen frame marked
            shot("5-view")
            events = [e["event"] for e in _events(vault)]
            assert events[-2:] == ["open", "view"]
            opened = [e for e in _events(vault) if e["event"] == "open"][0]
            assert opened["case"] == "CASE-2026-0042" and opened["shares"] == [1, 3] and opened["via"] == "review"
            # Pictures leave with no-store; a picture of an unopened id is not served.
            cookie = driver.get_cookie("facesel_review")["value"]
            rid = opened["record_ids"][0]
            assert opened["records"][0] == ["demo-cam-1", rid]
            src = snapshots[0].get_attribute("src")
            assert f"/opening/r/demo-cam-1/{opened['record_ids'][0]}/crop" in src  # the page names the camera
            crops = []
            for path in (f"demo-cam-1/{rid}", rid):  # and the old address (the id alone) still answers
                request = urllib.request.Request(f"{base}/opening/r/{path}/crop",
                                                 headers={"Cookie": f"facesel_review={cookie}"})
                with urllib.request.urlopen(request) as response:
                    assert response.headers["Cache-Control"] == "no-store"
                    assert response.headers["Content-Type"] == "image/png"
                    crops.append(response.read())
            crop = crops[0]
            assert crop[:4] == b"\x89PNG" and crops[1] == crop
            # Export, then verify offline; tamper and see it fail.
            driver.find_element(By.ID, "export").click()
            bundle = downloaded_zip(exports)
            assert _events(vault)[-1]["event"] == "export"  # logged before the bundle was sent
            click(driver, "end-session")
            assert driver.find_element(By.ID, "ended").is_displayed()
            shot("6-ended")
            # The session is over: the cookie and the start link are dead.
            request = urllib.request.Request(f"{base}/", headers={"Cookie": f"facesel_review={cookie}"})
            with pytest.raises(urllib.error.HTTPError) as gone:
                urllib.request.urlopen(request)
            assert gone.value.code == 401
            with pytest.raises(urllib.error.HTTPError) as used:
                urllib.request.urlopen(url)
            assert used.value.code == 403
        finally:
            driver.quit()
    server_output = served.output
    capsys.readouterr()
    assert main(["verify-bundle", str(bundle), "--fingerprint", built["fingerprint"]]) == 0
    out = capsys.readouterr().out
    assert "VERIFIED" in out and "sealed and signed by camera demo-cam-1" in out
    assert "under case 'CASE-2026-0042'" in out and "2 of 3 share holders" in out
    with zipfile.ZipFile(bundle) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    assert crop in members.values()
    tampered = exports / "tampered.zip"
    with zipfile.ZipFile(tampered, "w") as zf:
        for name, data in members.items():
            if name.endswith("crop.png") and rid in name:
                data = data[:200] + bytes([data[200] ^ 1]) + data[201:]
            zf.writestr(name, data)
    assert main(["verify-bundle", str(tampered)]) == 1
    assert "NOT VERIFIED" in capsys.readouterr().out
    # The audit log: every step in order, and the chain verifies with its signatures.
    events = [e["event"] for e in _events(vault)]
    tail = events[events.index("open"):]
    assert tail == ["open", "view", "export", "review-end"], tail
    identity = load_identity(vault)
    assert verify_audit(vault / "audit.log", keys=identity.audit_keys()).ok
    # Secrets never logged: no passphrase in the logs or the server's output.
    logs = (vault / "audit.log").read_text() + (built["auth"] / "audit.log").read_text() + server_output
    assert not any(p in logs for p in phrases)
    # No plaintext picture on disk: every picture of the bundle, searched in every file changed
    # since the test began (temporary folders, the browser profile, the working folder), except
    # the exported bundles themselves.
    needles = [data[len(data) // 2: len(data) // 2 + 48] for name, data in members.items()
               if name.endswith((".png", ".jpg"))]
    assert len(needles) >= record_count
    roots = [Path(tempfile.gettempdir()), tmp_path, Path.cwd(), Path.home() / ".cache", Path.home() / ".config"]
    # This session's base folder is scanned; other pytest sessions' are not (_another_session).
    hits = _scan([r for r in roots if r.exists()], needles, started, skip=[exports], ours=tmp_path_factory.getbasetemp())
    assert hits == [], hits
    # The scan can find: the same search over the export folder finds the bundle.
    assert _scan([exports], needles, started, skip=[]) != []


def test_the_plaintext_scan_skips_other_sessions_folders_whenever_they_appear(tmp_path):
    """The scan above passes over other pytest sessions' base folders, also one made after the scan
    was asked for (as pytest-826 was, session 19), and still searches this session's own and any
    other folder: the needle is found in both, not in the other session's."""
    needle, since = b"a crop's middle bytes, 48 of them in the real test", time.time() - 1
    users = tmp_path / "pytest-of-someone"
    ours, other = users / "pytest-7", users / "pytest-8"
    for folder in (ours / "test_x0", other / "test_y0", tmp_path / "elsewhere"):
        folder.mkdir(parents=True)
        (folder / "crop.png").write_bytes(b"png header " + needle + b" tail")
    hits = _scan([tmp_path], [needle], since, skip=[], ours=ours)
    assert sorted(hits) == sorted(str((f / "crop.png").resolve()) for f in (ours / "test_x0", tmp_path / "elsewhere"))
    # without ``ours``, nothing is taken for another session's: all three are found
    assert len(_scan([tmp_path], [needle], since, skip=[])) == 3
