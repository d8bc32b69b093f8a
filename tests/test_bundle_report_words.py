"""Review round 13c, findings 2 and 3: what ``facesel verify-bundle`` tells the court's reader.

Finding 2: the report's per-record notes were keyed by record id alone. Since schema 5 the central
store holds two cameras' records under one id (round 11: a camera key holder can take another
camera's id), and the desk opens and bundles both. The retention note of the first was overwritten
by the second's seal time, so a record opened days after the authority's retention ran out on it
verified without the note that says so.

Finding 3: the AFTER-REVOCATION note printed the manifest's text raw. Without ``--fingerprint`` a
bundle is checked under a key taken from itself (anyone's): a forger's note carrying terminal control
sequences cleared the screen and wrote a verdict of the forger's words, so the expert's terminal read
``VERIFIED`` and no longer showed ``NOT VERIFIED AS THE AUTHORITY'S`` (the exit status stayed 3).

Bundles are made by :mod:`central_bundle_common` (the desk's central opening without a server).
"""

from __future__ import annotations

import os
import subprocess
import sys

from central_bundle_common import T0, Sealed, central_authority, central_bundle
from facesel.review.verify_bundle import verify_bundle
from facesel.vault.keys import AuthorityPublic
from review_common import FACESEL_HOME

DAY = 86400.0
SHARED_ID = "5" * 32


def test_two_cameras_records_of_one_id_each_get_their_retention_note(tmp_path):
    adir = central_authority(tmp_path)
    pin = AuthorityPublic.load(adir / "authority.pub").fingerprint
    old = Sealed("cam-a", SHARED_ID, T0 - DAY)           # retention (30 days) ran out at T0 + 29 days
    fresh = Sealed("cam-c", SHARED_ID, T0 + 7 * DAY)     # ... at T0 + 37 days
    opened_at = T0 + 33 * DAY
    for order in ((old, fresh), (fresh, old)):
        bundle = tmp_path / f"{order[0].camera_id}-first.zip"
        bundle.write_bytes(central_bundle(adir, list(order), opened_at))
        report = verify_bundle(bundle, pin)
        late = [c for c in report.caveats if "after the authority's retention ran out" in c]
        # main: with cam-c's record listed second, no note at all (cam-a's seal time was overwritten)
        assert len(late) == 1, (order[0].camera_id, report.caveats)
        assert f"record {SHARED_ID} of camera cam-a was opened 4.0 days after" in late[0], late[0]


def test_a_forged_note_cannot_rewrite_the_unpinned_verdict_on_the_terminal(tmp_path):
    adir = central_authority(tmp_path)  # the forger's own authority: only an unpinned check accepts it
    # clear the screen, cursor home, a verdict of the forger's words, the rest hidden (conceal)
    overwrite = "\x1b[2J\x1b[H$ facesel verify-bundle evidence.zip\r\nevidence.zip: VERIFIED (case 'CASE-13c', 1 record(s)). " \
                "It proves:\x1b[8m"
    words = "I acknowledge"
    bundle = tmp_path / "forged.zip"
    bundle.write_bytes(central_bundle(adir, [Sealed("cam-a", "6" * 32, T0 + DAY, after_revocation=overwrite)],
                                      T0 + 2 * DAY, acknowledged=words))
    done = subprocess.run([sys.executable, "-m", "facesel", "verify-bundle", str(bundle)], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(FACESEL_HOME)})
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stdout.startswith(f"{bundle}: NOT VERIFIED AS THE AUTHORITY'S"), done.stdout
    # main: the note's ESC sequences reached the terminal as they were
    assert "\x1b" not in done.stdout and "\r" not in done.stdout, repr(done.stdout[-400:])
    assert "AFTER-REVOCATION: record " + "6" * 32 in done.stdout and "\\x1b[2J\\x1b[H" in done.stdout  # escaped
