"""Findings 6 and 7 of the vault review: a keystore backup outlived `authority shred`, and shares
were unprotected by default, weak passphrases and K = 1 were accepted."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from facesel.vault.errors import EpochUnavailableError, KeyMaterialError
from facesel.vault.keys import AuthorityPublic, Keystore
from facesel.vault.record import parse_record
from facesel.vault.retention import shred_expired
from facesel.vault.shares import ShareFile, reconstruct_master
from test_vault_common import (
    run_cli,
    run_cli_exit,
    DAY,
    T0,
    FakeClock,
    make_authority,
    master_of,
    open_all,
    orl_faces,
    share_paths,
    track_result,
    vault_at,
)


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 2)



def test_keystore_backup_from_before_the_shred_opens_nothing_with_the_new_shares(tmp_path, faces):
    _, adir = make_authority(tmp_path / "auth", horizon=40 * DAY)
    clock = FakeClock(T0)
    with vault_at(tmp_path / "v", adir, clock=clock, purge_interval=1e9) as vault:
        old = vault.seal(track_result(faces[0]))
        clock.advance(35 * DAY)
        fresh = vault.seal(track_result(faces[1]))
    old_record = (tmp_path / "v" / "records" / f"{old}.fsr").read_bytes()
    backup = tmp_path / "keystore-backup"
    shutil.copytree(adir / "keystore", backup)
    old_shares = [json.loads(p.read_text()) for p in share_paths(adir)]
    shredded = shred_expired(adir, now=T0 + 35 * DAY, master=master_of(adir))
    assert parse_record(old_record).epoch_id in shredded
    new_shares = [json.loads(p.read_text()) for p in share_paths(adir)]
    assert all(a["share"] != b["share"] for a, b in zip(old_shares, new_shares))  # a new sharing was issued
    # The backup with the holders' new shares: the master key it needs no longer exists.
    with pytest.raises(KeyMaterialError, match="do not reconstruct"):
        reconstruct_master(share_paths(adir)[:2], Keystore(backup))
    # The current keystore with old shares (a holder who kept one) does not work either.
    old_paths = []
    for i, doc in enumerate(old_shares[:2]):
        old_paths.append(tmp_path / f"old-share-{i}.json")
        old_paths[-1].write_text(json.dumps(doc))
    with pytest.raises(KeyMaterialError, match="do not reconstruct"):
        reconstruct_master(old_paths, Keystore(adir / "keystore"))
    with pytest.raises(EpochUnavailableError, match="shredded"):
        Keystore(adir / "keystore").unwrap(master_of(adir), parse_record(old_record).epoch_id)
    # What is left opens with the new shares, exactly.
    with vault_at(tmp_path / "v", adir, clock=clock):
        pass  # the camera purges the expired record
    opened = open_all(tmp_path / "v", adir, tmp_path / "out")
    assert [o.row.record_id for o in opened] == [fresh] and np.array_equal(opened[0].snapshot.crop(), faces[1])
    # authority.pub is unchanged by the re-key: cameras keep sealing to the same epoch keys.
    assert AuthorityPublic.load(adir / "authority.pub").serial == AuthorityPublic.load(tmp_path / "v" /
                                                                                      "authority.pub").serial


@pytest.mark.parametrize("argv, message", [
    ([], "share passphrases are required"),
    (["--passphrase-env", "WEAK_PW"], "too weak"),
    (["--threshold", "1", "--no-passphrase"], "--allow-single-share"),
    (["--no-passphrase", "--passphrase-env", "WEAK_PW"], "not several"),
    (["--generate-passphrases", "OUT/pw"], "keep the passphrases apart"),
    (["--generate-passphrases", "ELSEWHERE", "--epoch", "1s", "--horizon", "400d"], "more than"),
])
def test_init_refuses_unprotected_weak_or_single_share_sharing(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.setenv("WEAK_PW", "abc")
    argv = [str(tmp_path / "a" / "pw") if a == "OUT/pw" else str(tmp_path / "pw") if a == "ELSEWHERE" else a
            for a in argv]
    base = ["authority", "init", "--out", tmp_path / "a", "--shares", 3, "--horizon", "2d"]
    if "--threshold" not in argv:
        base += ["--threshold", 2]
    code, _, err = run_cli(capsys, *base, *argv)
    assert code == 1 and message in err and err.count("\n") == 1
    assert not (tmp_path / "a").exists() and not (tmp_path / "pw").exists()


def test_generated_passphrases_go_one_per_holder_apart_from_the_shares(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FACESEL_KDF_LEVEL", "min")
    code, out, err = run_cli(capsys, "authority", "init", "--out", tmp_path / "a", "--shares", 3, "--threshold", 2,
                          "--horizon", "2d", "--generate-passphrases", tmp_path / "holders", "--insecure-kdf-for-tests")
    assert code == 0, err
    phrases = [(tmp_path / "holders" / f"holder-{i}.txt").read_text().strip() for i in (1, 2, 3)]
    assert len(set(phrases)) == 3 and all(len(p) >= 20 for p in phrases)
    assert (tmp_path / "holders" / "holder-1.txt").stat().st_mode & 0o077 == 0
    paths = share_paths(tmp_path / "a")
    assert all(ShareFile.load(p).protected for p in paths)
    for p in paths:  # no passphrase lies beside the shares
        assert not any(phrase in p.read_text() for phrase in phrases)
    master, used = reconstruct_master(paths[1:], Keystore(tmp_path / "a" / "keystore"),
                                      lambda f: phrases[f.index - 1].encode())
    assert used == [2, 3] and len(master) == 32
    # K = 1 is possible, but only when asked for by name.
    code, _, err = run_cli(capsys, "authority", "init", "--out", tmp_path / "b", "--shares", 2, "--threshold", 1,
                        "--allow-single-share", "--no-passphrase", "--horizon", "2d")
    assert code == 0, err


def test_shred_refuses_a_time_ahead_of_the_clock_or_not_a_number(tmp_path, capsys):
    """Review round 3 (session 12): `purge --now` ahead of the clock was refused (round 1), but
    `authority shred --now` was not: a mistyped year (2207 for 2027) destroyed the secret of every
    epoch, today's and the ones cameras will seal to next, so that no record sealed so far or later
    could ever be opened. The same rule now holds for every destructive "now" (and NaN or infinity
    is never a time)."""
    import time

    now = time.time()
    _, adir = make_authority(tmp_path / "auth", start=now - 2 * DAY, horizon=10 * DAY)
    kept = Keystore(adir / "keystore").epoch_ids()
    shares = [a for p in share_paths(adir)[:2] for a in ("--share", p)]
    for when in ("2207-01-01", "nan", "inf", str(now + 365 * DAY)):
        code, _, err = run_cli_exit(capsys, "authority", "shred", "--dir", adir, *shares, "--now", when,
                                    "--new-no-passphrase")
        # nan and inf are refused where --now is parsed (facesel.vault.timeparse: a usage error, exit 2
        # since ux26), a future time by the shred's own check (exit 1): either way nothing is destroyed
        assert code == (2 if when in ("nan", "inf") else 1) and ("ahead of the clock" in err or "finite" in err
                              or "argument --now: must be a time from 1970" in err), (when, err)
        assert Keystore(adir / "keystore").epoch_ids() == kept, when
    with pytest.raises(ValueError, match="ahead of the clock"):
        shred_expired(adir, now=now + 365 * DAY, master=master_of(adir))
    assert Keystore(adir / "keystore").epoch_ids() == kept
    # A dry run only reports, and a time in the past (or the clock's) is as before.
    assert shred_expired(adir, now=now + 365 * DAY, dry_run=True) == kept
    assert shred_expired(adir, master=master_of(adir)) == []
    # The vault's and the central store's purge share the rule: NaN used to pass it (and purge nothing
    # while recording NaN as the last purge time).
    from facesel.vault.consistency import checked_purge_time

    for bad in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(ValueError, match="finite"):
            checked_purge_time(bad, now, False, lambda *_: None)
