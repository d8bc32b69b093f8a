"""The vault commands end to end: authority init, list, open, purge, shred, audit verify, and
every error case exiting non-zero with one clear line and nothing else changed."""

from __future__ import annotations

import argparse
import json
import subprocess

import cv2
import numpy as np
import pytest
from facesel.vault import Vault
from facesel.vault.keys import AuthorityPublic
from test_vault_common import (
    run_cli,
    DAY,
    T0,
    FakeClock,
    orl_faces,
    share_paths,
    track_result,
    tree_digest,
)



@pytest.fixture
def setup(tmp_path, shared_data, capsys, monkeypatch):
    """A 2-of-3 authority with passphrase-protected shares and a vault of 3 real faces."""
    monkeypatch.setenv("FACESEL_KDF_LEVEL", "min")
    monkeypatch.setenv("SHARE_PW", "correct horse battery")
    adir = tmp_path / "auth"
    code, out, err = run_cli(capsys, "authority", "init", "--out", adir, "--shares", 3, "--threshold", 2,
                          "--epoch", "1d", "--retention", "30d", "--horizon", "10d", "--start", T0 - DAY,
                          "--passphrase-env", "SHARE_PW", "--one-passphrase-for-all", "--insecure-kdf-for-tests")
    assert code == 0, err
    assert "2-of-3" in out and "retention 30 days" in out
    fingerprint = AuthorityPublic.load(adir / "authority.pub").fingerprint
    assert fingerprint in out
    code, _, err = run_cli(capsys, "camera", "init", "--out", tmp_path / "cam", "--camera-id", "gate-3",
                        "--authority-fingerprint", fingerprint)
    assert code == 0, err
    code, _, err = run_cli(capsys, "authority", "register", "--dir", adir, "--camera", tmp_path / "cam" / "camera.pub",
                        "--share", share_paths(adir)[0], "--share", share_paths(adir)[1], "--passphrase-env", "SHARE_PW")
    assert code == 0, err
    faces = orl_faces(shared_data, 3)
    clock = FakeClock(T0)
    ids = []
    # The fake clock's hours pass for the vault too (elapsed): not a clock stepped ahead.
    with Vault(tmp_path / "v", adir / "authority.pub", camera=tmp_path / "cam", clock=clock, elapsed=clock) as vault:
        for i, face in enumerate(faces):
            clock.advance(3600)
            ids.append(vault.seal(track_result(face, track_id=i)))
    return adir, tmp_path / "v", faces, ids


def _open_args(adir, vault, out, shares=(0, 1)):
    args = ["open", "--vault", vault, "--reason", "case 2027/14", "--out", out, "--passphrase-env", "SHARE_PW"]
    for i in shares:
        args += ["--share", share_paths(adir)[i]]
    return args


def test_list_open_and_verify(setup, tmp_path, capsys):
    adir, vault, faces, ids = setup
    code, out, _ = run_cli(capsys, "list", "--vault", vault, "--json")
    assert code == 0 and [r["record_id"] for r in json.loads(out)] == ids
    code, out, _ = run_cli(capsys, "list", "--vault", vault)
    assert code == 0 and "3 record(s)" in out
    code, out, err = run_cli(capsys, *_open_args(adir, vault, tmp_path / "o1", shares=(2, 0)), "--all")
    assert code == 0, err
    for rid, face in zip(ids, faces):
        assert np.array_equal(cv2.imread(str(tmp_path / "o1" / rid / "crop.png"), cv2.IMREAD_UNCHANGED), face)
        meta = json.loads((tmp_path / "o1" / rid / "meta.json").read_text())
        assert meta["header"]["record_id"] == rid
    # One record by id, and a time window holding only the second record.
    code, _, err = run_cli(capsys, *_open_args(adir, vault, tmp_path / "o2"), ids[0])
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "o2").iterdir()) == sorted([ids[0], "index.html"])
    code, _, err = run_cli(capsys, *_open_args(adir, vault, tmp_path / "o3"), "--from", T0 + 7000, "--to", T0 + 7300)
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "o3").iterdir()) == sorted([ids[1], "index.html"])
    assert f'{ids[1]}/crop.png' in (tmp_path / "o3" / "index.html").read_text()  # the index links each snapshot
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault)
    assert code == 0 and "OK" in out
    opens = [json.loads(x) for x in (vault / "audit.log").read_text().splitlines() if '"open"' in x]
    assert [o["record_ids"] for o in opens] == [ids, [ids[0]], [ids[1]]]
    assert {o["reason"] for o in opens} == {"case 2027/14"} and opens[0]["shares"] == [1, 3]


@pytest.mark.parametrize("case", ["too-few-shares", "wrong-passphrase", "other-authority-share",
                                  "other-authority-keystore", "corrupt-record", "non-empty-out", "unknown-id"])
def test_open_errors_exit_non_zero_and_change_nothing(setup, tmp_path, tmp_path_factory, capsys, monkeypatch, case):
    adir, vault, _, ids = setup
    out = tmp_path / "out"
    args = _open_args(adir, vault, out) + ["--all"]
    expect = {"too-few-shares": "2 are needed", "wrong-passphrase": "wrong passphrase",
              "other-authority-share": "share of authority", "other-authority-keystore": "belongs to authority",
              "corrupt-record": "checksum mismatch", "non-empty-out": "--out OUT: not empty; give a new or empty folder",
              "unknown-id": "not in the vault"}[case]
    if case == "too-few-shares":
        args = _open_args(adir, vault, out, shares=(1,)) + ["--all"]
    elif case == "wrong-passphrase":
        monkeypatch.setenv("SHARE_PW", "battery staple")
    elif case in ("other-authority-share", "other-authority-keystore"):
        other = tmp_path_factory.mktemp("other") / "auth"
        assert run_cli(capsys, "authority", "init", "--out", other, "--shares", 3, "--threshold", 2, "--start",
                    T0, "--horizon", "2d", "--passphrase-env", "SHARE_PW", "--one-passphrase-for-all",
                    "--insecure-kdf-for-tests")[0] == 0
        if case == "other-authority-share":
            args = _open_args(adir, vault, out, shares=(0,)) + ["--share", share_paths(other)[1], "--all"]
        else:
            args += ["--keystore", other / "keystore"]
    elif case == "corrupt-record":
        for rid in ids[1:]:
            path = vault / "records" / f"{rid}.fsr"
            data = bytearray(path.read_bytes())
            data[len(data) // 2] ^= 0x10
            path.write_bytes(bytes(data))
    elif case == "non-empty-out":
        out.mkdir()
        (out / "keep.txt").write_text("x")
    elif case == "unknown-id":
        args = _open_args(adir, vault, out) + ["0" * 32]
    before, auth_before = tree_digest(vault), tree_digest(adir)
    code, _, err = run_cli(capsys, *args)
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("facesel open: error:") and expect.replace("OUT", str(out)) in err, err
    if case == "corrupt-record":
        assert f"record {ids[1]}" in err and f"and 1 more: {ids[2]}" in err  # --all names every bad record
    assert tree_digest(vault) == before and tree_digest(adir) == auth_before
    if case == "non-empty-out":
        assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    else:
        assert not out.exists()


def test_purge_shred_and_opening_after_shredding(setup, tmp_path, capsys):
    adir, vault, _, ids = setup
    camera = vault.parent / "cam"
    code, out, _ = run_cli(capsys, "purge", "--vault", vault, "--camera", camera, "--now", T0 + 10 * DAY)
    assert code == 0 and "purged 0" in out and "3 kept" in out
    code, out, _ = run_cli(capsys, "authority", "shred", "--dir", adir, "--now", T0 + 31 * DAY, "--dry-run")
    # The epoch before T0 and T0's own epoch (holding all 3 records) end more than 30 days before.
    assert code == 0 and "would shred 2 " in out
    # A copy of the vault taken now survives the purge below.
    backup = tmp_path / "backup"
    backup.mkdir()
    for name in ("authority.pub", "vault.json", "index.sqlite", "audit.log", "audit.log.head"):
        (backup / name).write_bytes((vault / name).read_bytes())
    (backup / "records").mkdir()
    for p in (vault / "records").glob("*.fsr"):
        (backup / "records" / p.name).write_bytes(p.read_bytes())
    code, out, _ = run_cli(capsys, "purge", "--vault", vault, "--camera", camera, "--now", T0 + 31 * DAY)
    assert code == 0 and "purged 3" in out and not list((vault / "records").glob("*.fsr"))
    code, out, err = run_cli(capsys, "authority", "shred", "--dir", adir, "--now", T0 + 31 * DAY,
                          "--share", share_paths(adir)[0], "--share", share_paths(adir)[1],
                          "--passphrase-env", "SHARE_PW", "--new-passphrase-env", "SHARE_PW",
                          "--one-passphrase-for-all", "--insecure-kdf-for-tests")
    assert code == 0 and "shredded 2 " in out, err
    code, out, _ = run_cli(capsys, "audit", "verify", "--log", adir / "audit.log", "--authority", adir)
    # Two shreds and the re-key, each signed by the authority.
    assert code == 0 and "3 entries" in out and "signatures checked" in out
    code, _, err = run_cli(capsys, *_open_args(adir, backup, tmp_path / "o"), "--all")
    assert code == 1 and "shredded" in err and not (tmp_path / "o").exists()


def test_audit_verify_reports_tampering(setup, capsys):
    _, vault, _, _ = setup
    lines = (vault / "audit.log").read_text().splitlines(keepends=True)
    del lines[2]
    (vault / "audit.log").write_text("".join(lines))
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault)
    assert code == 1 and "BROKEN (deleted)" in out and "line 3" in out


@pytest.mark.parametrize("argv, message", [
    (["--shares", "3", "--threshold", "4"], "threshold"),
    (["--shares", "3", "--threshold", "2", "--epoch", "soon"], "--epoch"),
    (["--shares", "3", "--threshold", "2", "--retention", "0d"], "--retention"),
    (["--shares", "3", "--threshold", "2", "--passphrase-env", "NOT_SET_ANYWHERE"], "NOT_SET_ANYWHERE"),
])
def test_init_rejects_bad_arguments(tmp_path, capsys, argv, message):
    code, _, err = run_cli(capsys, "authority", "init", "--out", tmp_path / "a", *argv)
    assert code == 1 and message in err
    assert not (tmp_path / "a" / "keystore").exists()


def test_init_says_what_a_retention_shorter_than_an_epoch_means(tmp_path, capsys):
    # ux18: create_authority took a retention shorter than an epoch without a word. It is valid (the
    # camera deletes each record at its retention), but an epoch's secret goes at its end plus the
    # retention, so a copy outlives the retention by up to an epoch: said, not refused.
    code, out, err = run_cli(capsys, "authority", "init", "--out", tmp_path / "short", "--shares", 3, "--threshold", 2,
                             "--epoch", "1d", "--retention", "1h", "--horizon", "2d", "--no-passphrase")
    assert code == 0, err
    assert ("note: the retention (1 hour) is shorter than an epoch (1 day): each record is still deleted 1 hour "
            "after its seal" in out and "up to an epoch plus the retention (1 day + 1 hour) after the seal" in out), out
    pub = AuthorityPublic.load(tmp_path / "short" / "authority.pub")
    assert pub.retention_seconds == 3600 and pub.epoch_seconds == DAY
    code, out, err = run_cli(capsys, "authority", "init", "--out", tmp_path / "long", "--shares", 3, "--threshold", 2,
                             "--epoch", "1d", "--retention", "2d", "--horizon", "2d", "--no-passphrase")
    assert code == 0 and "note: the retention" not in out, err


def test_init_with_passphrase_file_and_no_prompt(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FACESEL_KDF_LEVEL", "min")
    words = tmp_path / "words.txt"
    words.write_text("one quiet harbour\ntwo silver kites\nthree paper maps\n")
    words.chmod(0o600)  # a passphrase file only its owner may read (others' are refused)
    code, _, err = run_cli(capsys, "authority", "init", "--out", tmp_path / "a", "--shares", 3, "--threshold", 2,
                        "--horizon", "2d", "--passphrase-file", words, "--insecure-kdf-for-tests")
    assert code == 0, err
    docs = [json.loads(p.read_text()) for p in share_paths(tmp_path / "a")]
    assert all(d["protected"] for d in docs)


def test_authority_extend_with_k_shares(setup, capsys):
    adir, _, _, _ = setup
    before = json.loads((adir / "authority.pub").read_text())["epochs"]
    code, out, err = run_cli(capsys, "authority", "extend", "--dir", adir, "--share", share_paths(adir)[0],
                          "--share", share_paths(adir)[2], "--until", T0 + 20 * DAY, "--passphrase-env", "SHARE_PW")
    assert code == 0, err
    after = json.loads((adir / "authority.pub").read_text())["epochs"]
    assert after[: len(before)] == before
    assert [e["id"] for e in after[len(before):]] == list(range(before[-1]["id"] + 1, int((T0 + 20 * DAY) // DAY) + 1))
    # Asking again for a time the keys already reach changes nothing, and says so.
    text = (adir / "authority.pub").read_bytes()
    code, out, err = run_cli(capsys, "authority", "extend", "--dir", adir, "--share", share_paths(adir)[0],
                             "--share", share_paths(adir)[2], "--until", T0 + 3 * DAY, "--passphrase-env", "SHARE_PW")
    assert code == 0, err
    assert "nothing changed" in out and "give cameras" not in out
    assert (adir / "authority.pub").read_bytes() == text


def test_open_onto_a_full_disk_leaves_no_plaintext(setup, tmp_path, capsys):
    """`facesel open --out` on a real, tiny tmpfs: exit 1, a clear error, no partial snapshot left."""
    adir, vault, _, _ = setup
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        records_before = {k: v for k, v in tree_digest(vault).items() if not k.startswith("audit.log")}
        code, _, err = run_cli(capsys, *_open_args(adir, vault, mount / "out"), "--all")
        assert code == 1 and "No space left" in err and err.count("\n") == 1
        assert not (mount / "out").exists()
        assert {k: v for k, v in tree_digest(vault).items() if not k.startswith("audit.log")} == records_before
        events = [json.loads(x)["event"] for x in (vault / "audit.log").read_text().splitlines()]
        assert events[-2:] == ["open", "open-aborted"]  # the decryption happened, so it is logged
    finally:
        subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.parametrize("case", ["deleted", "replaced", "planted"])
def test_audit_verify_ties_record_files_to_the_log(setup, capsys, case):
    """The log chain is intact in each case; the custody check still names the record concerned."""
    _, vault, _, ids = setup
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault)
    assert code == 0 and "records and log agree" in out
    records = vault / "records"
    if case == "deleted":
        (records / f"{ids[1]}.fsr").unlink()
        target, words = ids[1], "no purge is logged"
    elif case == "replaced":
        (records / f"{ids[1]}.fsr").write_bytes((records / f"{ids[2]}.fsr").read_bytes())
        target, words = ids[1], "differs from the one logged"
    else:
        target, words = "f" * 32, "never logged as sealed"
        (records / f"{target}.fsr").write_bytes((records / f"{ids[0]}.fsr").read_bytes())
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault)
    assert code == 1 and "OK" in out and f"CUSTODY record {target}: " in out and words in out


def test_a_wrong_passphrase_says_which_passphrase_was_tried(tmp_path, capsys, monkeypatch):
    # ux20: the README's HOLDERS line with one holder's --passphrase-file left out (or two files
    # swapped) answered "SHARE: wrong passphrase, or the share file is corrupt": one file's single
    # line is used for every share, and files are matched to --share by order, which nothing said.
    from facesel.cli.authority import share_passphrase_source
    from facesel.review.cli_open import remembering

    monkeypatch.setenv("FACESEL_KDF_LEVEL", "min")
    adir, words = tmp_path / "auth", tmp_path / "words"
    code, out, err = run_cli(capsys, "authority", "init", "--out", adir, "--shares", 3, "--threshold", 2,
                             "--generate-passphrases", words, "--insecure-kdf-for-tests")
    assert code == 0, err
    fingerprint = AuthorityPublic.load(adir / "authority.pub").fingerprint
    code, _, err = run_cli(capsys, "camera", "init", "--out", tmp_path / "cam", "--camera-id", "gate-3",
                           "--authority-fingerprint", fingerprint)
    assert code == 0, err
    s1, s2 = share_paths(adir)[:2]
    w1, w2 = words / "holder-1.txt", words / "holder-2.txt"
    register = ["authority", "register", "--dir", adir, "--camera", tmp_path / "cam" / "camera.pub"]
    code, _, err = run_cli(capsys, *register, "--share", s1, "--passphrase-file", w1, "--share", s2)
    assert code == 1 and err.startswith(f"facesel authority register: error: {s2}: wrong passphrase"), err
    assert (f"(its passphrase was taken from --passphrase-file {w1}, whose one line is used for all 2 shares; each "
            "holder's own file: one --passphrase-file per --share, in the same order)") in err
    code, _, err = run_cli(capsys, *register, "--share", s1, "--passphrase-file", w2, "--share", s2,
                           "--passphrase-file", w1)
    assert code == 1 and f"(its passphrase was taken from --passphrase-file {w2}, the file given in --share order" in err
    code, _, err = run_cli(capsys, *register, "--share", s1, "--passphrase-file", w1, "--share", s2,
                           "--passphrase-file", w2)
    assert code == 0, err  # the same holders, their files in order
    # `facesel open` asks through remembering(): it keeps the source's account of each passphrase
    args = argparse.Namespace(passphrase_file=[str(w1)], passphrase_env=None)
    source = share_passphrase_source(args, [str(s1), str(s2)])
    assert remembering(source).source_of is source.source_of


def test_registering_a_camera_again_with_its_own_key_says_so_and_changes_nothing(tmp_path, capsys, monkeypatch):
    # ux20: a second `authority register` of the same camera.pub said "camera gate-3 registered ...;
    # give it the new authority.pub" again, as if something had changed.
    monkeypatch.setenv("FACESEL_KDF_LEVEL", "min")
    monkeypatch.setenv("SHARE_PW", "correct horse battery")
    adir = tmp_path / "auth"
    code, _, err = run_cli(capsys, "authority", "init", "--out", adir, "--shares", 3, "--threshold", 2,
                           "--passphrase-env", "SHARE_PW", "--one-passphrase-for-all", "--insecure-kdf-for-tests")
    assert code == 0, err
    fingerprint = AuthorityPublic.load(adir / "authority.pub").fingerprint
    code, _, err = run_cli(capsys, "camera", "init", "--out", tmp_path / "cam", "--camera-id", "gate-3",
                           "--authority-fingerprint", fingerprint)
    assert code == 0, err
    register = ["authority", "register", "--dir", adir, "--camera", tmp_path / "cam" / "camera.pub",
                "--share", share_paths(adir)[0], "--share", share_paths(adir)[1], "--passphrase-env", "SHARE_PW"]
    code, out, err = run_cli(capsys, *register)
    assert code == 0 and "camera gate-3 registered" in out, err
    before = tree_digest(adir)
    monkeypatch.delenv("SHARE_PW")  # no share is read: no passphrase is needed to be told
    code, out, err = run_cli(capsys, *register)
    assert code == 0, err
    assert "camera gate-3 is already registered with this key: nothing changed" in out, out
    assert "give it the new" not in out and "registered (" not in out, out
    assert tree_digest(adir) == before  # authority.pub not re-signed, nothing else written
