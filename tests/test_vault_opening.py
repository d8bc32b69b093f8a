"""Finding 3 of the vault review: opening a record must never write outside its folder, and an
opening either writes everything or nothing (with an abort entry). The hostile records here are
signed by the registered camera itself, the worst case: every other check passes."""

from __future__ import annotations

import json
import struct

import cv2
import numpy as np
import pytest
from facesel.vault.audit import AuditLog
from facesel.vault.errors import RecordError, VaultWriteError
from facesel.vault.index import IndexRow
from facesel.vault.opening import OpenedRecord, _write_outputs
from facesel.vault.payload import OpenedSnapshot, encode_snapshot
from test_vault_common import T0, FakeClock, make_authority, open_all, orl_faces, sealed_vault, track_result, vault_at


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 3)


def _renamed(payload: bytes, names: list[str]) -> bytes:
    """The same payload with its blobs renamed (what a hostile camera could seal)."""
    (size,) = struct.unpack_from(">I", payload)
    meta = json.loads(payload[4:4 + size])
    for entry, name in zip(meta["blobs"], names):
        entry["name"] = name
    new = json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()
    return struct.pack(">I", len(new)) + new + payload[4 + size:]


@pytest.mark.parametrize("names", [["../../escaped"], ["crop", "/tmp/facesel-absolute-escape"],
                                   ["crop", "clip/0000\x00.png"], ["crop", "clip/../../x"], ["crop", "crop"]])
def test_hostile_blob_names_are_refused_before_anything_is_written(tmp_path, faces, monkeypatch, names):
    _, adir = make_authority(tmp_path / "auth")
    real = encode_snapshot
    monkeypatch.setattr("facesel.vault.store.encode_snapshot",
                        lambda result, rid, fmt: _renamed(real(result, rid, fmt), names))
    with vault_at(tmp_path / "v", adir, clock=FakeClock(T0)) as vault:
        rid = vault.seal(track_result(faces[0], clip=faces[1:]))
    monkeypatch.undo()
    out = tmp_path / "deep" / "out"
    out.parent.mkdir()
    before = (tmp_path / "v" / "audit.log").read_text()
    with pytest.raises(RecordError, match=f"record {rid}: malformed payload.*not allowed"):
        open_all(tmp_path / "v", adir, out)
    assert not out.exists() and list(out.parent.iterdir()) == []
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "deep" / "escaped").exists()
    assert (tmp_path / "v" / "audit.log").read_text() == before  # nothing decrypted into the open


def test_output_paths_must_resolve_inside_the_record_folder(tmp_path, faces):
    """The second line of defence, if a bad name ever got past the payload check."""
    row = IndexRow("a" * 32, "cam-1", 1, T0, None, None, None, None, 1, "0" * 64)
    item = OpenedRecord(row, {}, OpenedSnapshot({}, {"clip/../../../outside": b"\x89PNG...."}))
    with pytest.raises(RecordError, match="not allowed"):
        _write_outputs(tmp_path, [item])
    assert not (tmp_path.parent / "outside.png").exists()


def test_a_failure_half_way_leaves_no_output_and_logs_the_abort(tmp_path, faces, monkeypatch):
    adir, vault_dir, ids = sealed_vault(tmp_path, faces)
    calls = {"n": 0}
    from facesel.vault import opening
    real = opening.atomic_write

    def fail_later(path, data, mode=0o600):
        calls["n"] += 1
        if calls["n"] == 4:  # the second record's files
            raise OSError(28, "No space left on device")
        return real(path, data, mode)

    monkeypatch.setattr(opening, "atomic_write", fail_later)
    out = tmp_path / "out"
    with pytest.raises(VaultWriteError, match="No space left on device; nothing was left there"):
        open_all(vault_dir, adir, out)
    assert not out.exists() and not [p for p in tmp_path.iterdir() if ".partial-" in p.name]
    for log in (vault_dir / "audit.log", adir / "audit.log"):
        assert [e["event"] for e in AuditLog(log).entries()][-2:] == ["open", "open-aborted"]
    monkeypatch.undo()
    opened = open_all(vault_dir, adir, out)  # and it works once the disk is fine
    assert [o.row.record_id for o in opened] == ids
    assert np.array_equal(cv2.imread(str(out / ids[0] / "crop.png"), cv2.IMREAD_UNCHANGED), faces[0])


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, SystemExit])
def test_an_interrupted_opening_leaves_no_plaintext_behind(tmp_path, faces, monkeypatch, interruption):
    """Review 6, finding 3: Ctrl-C (KeyboardInterrupt) or SIGTERM (``facesel open`` makes it a
    SystemExit) while the opened pictures were being written left them in the hidden staging
    folder ``.out.partial-XXXXXXXX`` beside the output, decrypted faces that nobody knew were
    there, and no ``open-aborted`` entry: the cleanup caught only OSError and RecordError."""
    adir, vault_dir, ids = sealed_vault(tmp_path, faces)
    calls = {"n": 0}
    from facesel.vault import opening
    real = opening.atomic_write

    def interrupted_later(path, data, mode=0o600):
        calls["n"] += 1
        if calls["n"] == 4:  # the second record's files: the first record's crop is on disk
            raise interruption()
        return real(path, data, mode)

    monkeypatch.setattr(opening, "atomic_write", interrupted_later)
    out = tmp_path / "out"
    with pytest.raises(interruption):
        open_all(vault_dir, adir, out)
    left = [p for p in tmp_path.rglob("*.png")] + [p for p in tmp_path.iterdir() if ".partial-" in p.name]
    assert left == [], f"decrypted pictures left on disk after the interruption: {left}"
    assert not out.exists()
    for log in (vault_dir / "audit.log", adir / "audit.log"):
        assert [e["event"] for e in AuditLog(log).entries()][-2:] == ["open", "open-aborted"]


def test_sigterm_inside_an_opening_unwinds_like_an_exception(tmp_path):
    """The CLI's half of finding 3: a real SIGTERM inside ``sigterm_as_exit`` runs the ``finally``
    blocks (by default Python dies on the spot) and exits 143; the old handler is back after."""
    import signal
    import subprocess
    import sys

    marker = tmp_path / "cleaned"
    child = ("import os, signal, sys\n"
             "from facesel.cli.terminate import sigterm_as_exit\n"
             "with sigterm_as_exit():\n"
             "    try:\n"
             "        os.kill(os.getpid(), signal.SIGTERM)\n"
             "        signal.pause()\n"
             "    finally:\n"
             f"        open({str(marker)!r}, 'w').close()\n")
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60)
    assert done.returncode == 143 and marker.exists(), (done.returncode, done.stderr)
    from facesel.cli.terminate import sigterm_as_exit
    before = signal.getsignal(signal.SIGTERM)
    with sigterm_as_exit():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before


def test_pictures_a_killed_opening_left_are_removed_by_the_next_one(tmp_path, faces, caplog):
    """Round 6, finding 3's remainder: SIGKILL or a power cut while ``open`` writes leaves its
    hidden staging folder (no process can clean up after SIGKILL). The next ``open`` to the same
    output removes such leftovers of an opening to that name (ours, folders, not links) and says
    so; anything else beside it is left alone."""
    adir, vault_dir, ids = sealed_vault(tmp_path, faces)
    out = tmp_path / "out"
    left = tmp_path / ".out.partial-0badf00d"
    (left / ids[0]).mkdir(parents=True)
    (left / ids[0] / "crop.png").write_bytes(b"\x89PNG decrypted face")
    other = tmp_path / ".other.partial-0badf00d"  # another output's: not this opening's business
    other.mkdir()
    planted = tmp_path / ".out.partial-1badf00d"  # a link planted under the name: never followed
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "file").write_text("x")
    planted.symlink_to(keep)
    opened = open_all(vault_dir, adir, out)
    assert [o.row.record_id for o in opened] == ids
    assert not left.exists() and other.is_dir() and planted.is_symlink() and (keep / "file").exists()
    assert any(r.getMessage().startswith(f"removed {left}") for r in caplog.records)


def test_a_window_that_holds_no_record_reads_no_share_and_logs_nothing(tmp_path, faces, monkeypatch):
    # ux18: `facesel open --from 2030-01-01` (or a local time read as UTC) had the holders give
    # their shares, logged an "open" of no record in both logs and wrote an empty folder, exit 0.
    from facesel.vault import opening, open_records
    from test_vault_common import DAY, share_paths

    adir, vault_dir, ids = sealed_vault(tmp_path, faces)
    logs = {log: log.read_bytes() for log in (vault_dir / "audit.log", adir / "audit.log") if log.exists()}
    monkeypatch.setattr(opening, "reconstruct_master", lambda *a, **k: pytest.fail("a share was read"))
    out = tmp_path / "out"
    for window in ({"start": T0 + 30 * DAY}, {"start": T0 - 2 * DAY, "end": T0 - DAY}):
        with pytest.raises(ValueError, match=r"no record was sealed (from|to) .*\(the vault holds 3 record\(s\), sealed "
                                             r"from .* to .*\): nothing to open; no share was read and nothing was logged"):
            open_records(vault_dir, share_paths(adir)[:2], adir / "keystore", "case 1", out, **window)
    assert not out.exists() and {log: log.read_bytes() for log in logs} == logs
    monkeypatch.undo()
    assert [o.row.record_id for o in open_records(vault_dir, share_paths(adir)[:2], adir / "keystore", "case 1",
                                                  out, start=T0)] == ids


def test_cli_open_of_an_empty_window_is_one_line_and_exit_1(tmp_path, faces, capsys):
    from test_vault_common import DAY, run_cli, share_paths

    adir, vault_dir, _ = sealed_vault(tmp_path, faces)
    shares = [arg for share in share_paths(adir)[:2] for arg in ("--share", share)]
    code, out, err = run_cli(capsys, "open", "--vault", vault_dir, *shares, "--reason", "case 1",
                             "--from", "2090-01-01", "--out", tmp_path / "out")
    assert code == 1 and err.startswith("facesel open: error: no record was sealed from 2090-01-01T00:00:00Z"), err
    assert "nothing was logged" in err and not (tmp_path / "out").exists()
