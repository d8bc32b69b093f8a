"""The desk against the central store, in a real headless Chromium: records of two cameras synced
into a PostgreSQL store started by the tests; find by camera, refuse 1 of 3, open 2 of 3, view the
exact sealed pixels, export a bundle that verifies offline and fails once altered; the store's log
and the authority's log hold the opening before the view. And (session 21) two cameras' records
under one id, and a late arrival opened only on an acknowledgement.
(No screenshots here: these are ORL faces, and only the demo clip's faces go into the docs.)"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
import zipfile

import cv2
import numpy as np
import pytest
from central_common import facesel
from facesel.central.pg_backend import PostgresVault
from facesel.central.sync import sync_vault
from facesel.review.bundle import pack
from facesel.review.sources import ACKNOWLEDGEMENT
from facesel.review.verify_bundle import BundleError, verify_bundle
from facesel.vault import Vault
from facesel.vault.audit import AuditLog
from facesel.vault.keys import AuthorityPublic
from review_browser import add_share, click, downloaded_zip, driver_for, need_browser, progress
from review_common import review_server
from test_central_late_arrival import late  # noqa: F401  (the fixture: a record that arrived after a revocation)
from test_central_record_id_squat import _squat
from test_vault_common import orl_faces, share_paths, track_result


def _central_events(dsn: str) -> list[dict]:
    with PostgresVault(dsn) as store:
        return [json.loads(line) for line in store.audit_lines()]


@contextlib.contextmanager
def _desk(tmp_path, adir, dsn):
    """The desk over the central store ``dsn`` and a Chromium that followed its start link:
    (driver, the session's base URL, the downloads folder); the browser quits after."""
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with review_server(None, adir / "keystore", central=dsn) as served:
        driver = driver_for(tmp_path / "profile", downloads)
        try:
            driver.get(served.url)
            yield driver, driver.current_url.rstrip("/"), downloads  # the pages lie under the secret path
        finally:
            driver.quit()


@pytest.mark.slow
def test_desk_opens_two_of_three_from_the_central_store(tmp_path, authority, cameras, central_dsn, shared_data):
    need_browser()
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    pub, adir = authority
    faces = orl_faces(shared_data, 4)
    crops = {}
    for n, camera_id in enumerate(("cam-a", "cam-b")):
        with Vault(tmp_path / camera_id, cameras.pub_path, camera=cameras(camera_id)) as vault:
            for face in faces[2 * n:2 * n + 2]:
                crops[vault.seal(track_result(face, clip=[face[::-1].copy(), face]))] = (camera_id, face)
    with PostgresVault.create(central_dsn, pub) as store:
        for camera_id in ("cam-a", "cam-b"):
            cameras.register(store, camera_id)
            sync_vault(tmp_path / camera_id, store, cameras(camera_id))
    cam_b = sorted(rid for rid, (camera_id, _) in crops.items() if camera_id == "cam-b")
    shares = share_paths(adir)
    with _desk(tmp_path, adir, central_dsn) as (driver, base, downloads):
        assert "Central store" in driver.find_element(By.CSS_SELECTOR, "p.hint").text
        assert len(driver.find_elements(By.CSS_SELECTOR, "#records tbody tr")) == 4
        counts = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#counts tbody tr")]
        assert len(counts) == 2 and counts[0].startswith("cam-a") and counts[1].startswith("cam-b")
        Select(driver.find_element(By.NAME, "camera")).select_by_value("cam-b")
        click(driver, "search")
        rows = driver.find_elements(By.CSS_SELECTOR, "#records tbody tr")
        assert sorted(r.find_elements(By.TAG_NAME, "td")[-1].text for r in rows) == cam_b
        for box in driver.find_elements(By.CSS_SELECTOR, "input.pick"):
            box.click()
        driver.find_element(By.ID, "case").send_keys("CASE-C-7")
        driver.find_element(By.ID, "reason").send_keys("court order 7")
        driver.find_element(By.ID, "opened_by").send_keys("investigator B")
        click(driver, "request-open")
        assert "share 2 accepted" in add_share(driver, shares[1], "")
        assert "1 of 2 shares" in progress(driver)
        assert not [e for e in _central_events(central_dsn) if e["event"] == "open"]  # 1 of 3: nothing
        add_share(driver, shares[2], "")
        assert driver.find_element(By.ID, "faces-banner").is_displayed()
        assert len(driver.find_elements(By.CSS_SELECTOR, "img.snapshot")) == 2
        cookie = driver.get_cookie("facesel_review")["value"]
        for rid in cam_b:  # the exact pixels the camera sealed
            request = urllib.request.Request(f"{base}/opening/r/{rid}/crop",
                                             headers={"Cookie": f"facesel_review={cookie}"})
            with urllib.request.urlopen(request) as response:
                image = cv2.imdecode(np.frombuffer(response.read(), np.uint8), cv2.IMREAD_UNCHANGED)
            np.testing.assert_array_equal(image, crops[rid][1])
        driver.find_element(By.ID, "export").click()
        bundle = downloaded_zip(downloads)
        click(driver, "end-session")
    events = _central_events(central_dsn)
    tail = [e["event"] for e in events][[e["event"] for e in events].index("open"):]
    assert tail == ["open", "view", "export", "review-end"], tail
    # The bundle verifies offline against the authority's fingerprint, and fails once altered.
    report = verify_bundle(bundle, pub.fingerprint)
    assert sorted(report.records) == cam_b
    text = "\n".join(report.proven)
    assert "sealed and signed by camera cam-b at" in text and "under case 'CASE-C-7'" in text
    assert "2 of 3 share holders" in text
    with zipfile.ZipFile(bundle) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    for name in [m for m in members if m.endswith(("crop.png", ".fsr", "central-open.json"))]:
        changed = dict(members)
        changed[name] = members[name][:-1] + bytes([members[name][-1] ^ 1])
        (tmp_path / "t.zip").write_bytes(pack(list(changed.items())))
        with pytest.raises(BundleError):
            verify_bundle(tmp_path / "t.zip", pub.fingerprint)
    opened = next(e for e in events if e["event"] == "open")
    assert opened["case"] == "CASE-C-7" and opened["shares"] == [2, 3] and sorted(opened["record_ids"]) == cam_b
    mine = [e for e in AuditLog(adir / "audit.log").entries() if e["event"] == "open"]
    assert mine[-1]["central_entry"] == opened["hash"] and mine[-1]["case"] == "CASE-C-7"
    with PostgresVault(central_dsn) as store:
        assert store.verify_audit().ok  # the desk's entries keep the store's chain intact
    done = facesel("audit", "verify", "--log", str(adir / "audit.log"), "--authority", str(adir))
    assert done.returncode == 0, done.stdout + done.stderr


def _picture(url: str, cookie: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Cookie": f"facesel_review={cookie}"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _pixels(data: bytes):
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)


@pytest.mark.slow
def test_desk_names_records_by_camera_and_opens_a_late_arrival_only_acknowledged(tmp_path, authority, cameras,
                                                                                 central_dsn, late, shared_data):
    """Session 21: two cameras' records under one id are listed, opened and exported apart, and a
    record flagged AFTER-REVOCATION is shown so, refused until the acknowledgement is ticked, then
    opened with the acknowledgement in the signed entries and in the bundle. On main the desk
    listed all three as refused and opened none."""
    need_browser()
    from selenium.webdriver.common.by import By

    before, after, _ = late  # cam-a's: "after" arrived once cam-a's key was revoked
    faces = orl_faces(shared_data, 3)
    with PostgresVault(central_dsn) as store:  # cam-c's own record under cam-a's id "before"
        cameras.register(store, "cam-c")
        assert [a.status for a in store.receive([_squat(cameras, before, faces[2])])] == ["stored"]
    adir = authority[1]
    shares = share_paths(adir)
    with _desk(tmp_path, adir, central_dsn) as (driver, base, downloads):
        rows = driver.find_elements(By.CSS_SELECTOR, "#records tbody tr")
        values = sorted(b.get_attribute("value") for b in driver.find_elements(By.CSS_SELECTOR, "input.pick"))
        assert values == sorted([f"cam-a/{before}", f"cam-c/{before}", f"cam-a/{after}"])
        assert not driver.find_elements(By.CSS_SELECTOR, "p.error")  # nothing refused
        late_rows = [r for r in rows if "late" in (r.get_attribute("class") or "")]
        assert len(late_rows) == 1 and after in late_rows[0].text
        assert f"AFTER-REVOCATION: record {after}: arrived in the store" in late_rows[0].text

        def request_all(acknowledge: bool) -> None:
            for box in driver.find_elements(By.CSS_SELECTOR, "input.pick"):
                box.click()
            driver.find_element(By.ID, "case").send_keys("CASE-21")
            driver.find_element(By.ID, "reason").send_keys("court order 21")
            driver.find_element(By.ID, "opened_by").send_keys("investigator C")
            if acknowledge:
                driver.find_element(By.ID, "acknowledge-after-revocation").click()
            click(driver, "request-open")

        request_all(acknowledge=False)  # never by default: refused before any share is asked for
        message = driver.find_element(By.ID, "message").text
        assert f"refused: record {after}: arrived in the store" in message and "tick the acknowledgement" in message
        assert not driver.find_elements(By.ID, "holder-form")
        request_all(acknowledge=True)
        warning = driver.find_element(By.ID, "after-revocation").text
        assert "AFTER-REVOCATION: 1 of these record(s)" in warning and ACKNOWLEDGEMENT in warning
        add_share(driver, shares[0], "")
        add_share(driver, shares[1], "")
        assert len(driver.find_elements(By.CSS_SELECTOR, "section.record")) == 3
        flagged = driver.find_element(By.ID, f"record-cam-a-{after}").find_element(By.CSS_SELECTOR, "p.flag")
        assert "AFTER-REVOCATION, opened on your acknowledgement" in flagged.text
        cookie = driver.get_cookie("facesel_review")["value"]
        status, crop = _picture(f"{base}/opening/r/cam-a/{before}/crop", cookie)
        assert status == 200
        np.testing.assert_array_equal(_pixels(crop), faces[0])
        status, crop = _picture(f"{base}/opening/r/cam-c/{before}/crop", cookie)
        assert status == 200
        np.testing.assert_array_equal(_pixels(crop), faces[2])
        # An address of the old form names the id alone: answered while it is one record's only.
        status, crop = _picture(f"{base}/opening/r/{after}/crop", cookie)
        assert status == 200
        np.testing.assert_array_equal(_pixels(crop), faces[1])
        status, text = _picture(f"{base}/opening/r/{before}/crop", cookie)
        assert status == 404 and b"held by cameras cam-a, cam-c" in text and b"must name the camera" in text
        driver.find_element(By.ID, "export").click()
        bundle = downloaded_zip(downloads)
        click(driver, "end-session")
    events = _central_events(central_dsn)
    opened = next(e for e in events if e["event"] == "open")
    assert sorted(opened["records"]) == sorted([["cam-a", before], ["cam-c", before], ["cam-a", after]])
    assert opened["after_revocation_records"] == [["cam-a", after]]
    assert opened["after_revocation_acknowledged"] == ACKNOWLEDGEMENT
    view = next(e for e in events if e["event"] == "view")
    assert sorted(view["records"]) == sorted(opened["records"])
    report = verify_bundle(bundle, AuthorityPublic.load(adir / "authority.pub").fingerprint)
    assert sorted(report.records) == sorted([before, before, after])
    notes = [c for c in report.caveats if c.startswith("AFTER-REVOCATION")]
    assert len(notes) == 1 and f"record {after} of camera cam-a" in notes[0] and ACKNOWLEDGEMENT in notes[0]
