"""Review round 9, finding 2: a bundle of a record opened after the authority's retention had run
out on it. The camera deletes a record once it is older than the retention; one that is still there
later (the camera was off, its purge failed, or someone kept it on purpose) is opened by K holders
like any other, and ``verify-bundle`` said ``VERIFIED`` without a word: the court had to compare
the seal time with ``retention_seconds`` in ``authority.pub`` itself to see that the evidence
should no longer exist. Whether a legal hold or an unlawful keeping, the bundle cannot tell; the
report now says it, for each such record, and for no other.

Real files: an authority, a vault sealed by a real camera key (a FakeClock dates the seals), the
real ``facesel open --bundle`` and ``facesel verify-bundle`` commands.
"""

from __future__ import annotations

import re
import time

from facesel.review.verify_bundle import verify_bundle
from facesel.vault.keys import AuthorityPublic
from test_vault_common import FakeClock, make_authority, orl_faces, run_cli, share_paths, track_result, vault_at

DAY = 86400.0


def test_a_record_opened_past_its_retention_is_named_in_the_report(tmp_path, shared_data, capsys):
    now = time.time()
    adir = make_authority(tmp_path / "auth", start=now - 40 * DAY, horizon=45 * DAY, retention=30 * DAY)[1]
    old_face, new_face = orl_faces(shared_data, 2)
    clock = FakeClock(now - 31 * DAY)  # sealed 31 days ago: past the 30 days by about one day today
    with vault_at(tmp_path / "vault", adir, clock=clock) as vault:
        old = vault.seal(track_result(old_face, track_id=0))
        clock.advance(29 * DAY)  # two days ago: the old record is 29 days old then, so the camera keeps it
        new = vault.seal(track_result(new_face, track_id=1))
    bundle = tmp_path / "evidence.zip"
    code, _, err = run_cli(capsys, "open", "--vault", tmp_path / "vault", "--reason", "case 2027/9: court order",
                           "--out", tmp_path / "opened", "--bundle", bundle, "--share", share_paths(adir)[0],
                           "--share", share_paths(adir)[1], old, new)
    assert code == 0, err
    pin = AuthorityPublic.load(adir / "authority.pub").fingerprint

    report = verify_bundle(bundle, pin=pin)
    assert sorted(report.records) == sorted([old, new])
    late = [line for line in report.caveats if "after the authority's retention ran out" in line]
    assert len(late) == 1, report.caveats  # the old record only: the new one is two days into its 30
    assert re.match(rf"record {old} was opened (0\.9|1\.0) days after the authority's retention ran out on it "
                    r"\(sealed [^,]+ UTC, retention 30 days, opened [^)]+ UTC\)", late[0]), late[0]
    assert "cannot tell a legal hold from a record kept unlawfully" in late[0]

    code, out, _ = run_cli(capsys, "verify-bundle", bundle, "--fingerprint", pin)
    assert code == 0 and "VERIFIED" in out  # a note, not a refusal: the opening itself is genuine
    assert f"  note: record {old} was opened" in out and f"record {new} was opened" not in out


def test_a_record_opened_minutes_late_is_not_said_to_be_zero_days_late():
    """Review 18: the lateness was written in days with one decimal, so a record opened 3 minutes
    (or 2 hours) after its retention ran out read "opened 0.0 days (0.1 days) after": late, in
    words that say it was not."""
    from types import SimpleNamespace

    from facesel.review.verify_bundle import _past_retention

    authority = SimpleNamespace(retention_seconds=30 * DAY)
    sealed = {(None, "a" * 32): 0.0, (None, "b" * 32): 1000.0, (None, "c" * 32): 2000.0}
    notes = _past_retention(sealed, 30 * DAY + 2 * 3600 + 1000, authority)
    opened = [re.search(r"was opened (.+?) after", note).group(1) for note in notes]
    assert opened == ["2.3 hours", "2.0 hours", "1.7 hours"]
    assert [re.search(r"was opened (.+?) after", note).group(1)
            for note in _past_retention({(None, "d" * 32): 0.0}, 30 * DAY + 180, authority)] == ["180 seconds"]
    assert _past_retention({(None, "e" * 32): 0.0}, 30 * DAY, authority) == []  # on the day itself: not late
    assert "retention 30 days" in notes[0] and "opened 30 days" not in notes[0]
