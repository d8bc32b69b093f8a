"""``facesel central list``'s selection flags, as a new user types them (ux23).

Before: a window whose ``--to`` came before its ``--from`` was refused only once the store was asked,
after the table's header, as ``end (1796083200.0) is before start (1796688000.0)`` (Unix seconds, no
flag; ``facesel list`` says ``--to (...) is before --from (...)``); and a ``--camera`` of an id the
store does not know (a typo) listed ``0 record(s) from 0 camera(s)``, exit 0, with no word that no
such camera is registered: read as "that camera sealed nothing".
"""

from __future__ import annotations

from central_common import facesel
from test_central_row_relabel import two_cameras  # noqa: F401  (a fixture)


def test_an_inverted_window_is_refused_in_the_flags_words_before_the_store_is_asked():
    # A store nobody listens on: the refusal comes first, so it is the window's, not the store's.
    for action in (["list"], ["open", "--all", "--share", "s.json", "--reason", "r", "--out", "o"]):
        done = facesel("central", *action, "--central", "host=127.0.0.1 port=1 dbname=x user=x",
                       "--from", "2026-12-08", "--to", "2026-12-01")
        assert done.returncode == 1, done.stderr
        assert done.stderr.strip() == (f"facesel central {action[0]}: error: --to (2026-12-01T00:00:00Z) is before --from "
                                       "(2026-12-08T00:00:00Z)"), done.stderr
        assert done.stdout == ""


def test_a_camera_the_store_does_not_know_is_said_on_stderr(central_dsn, authority, two_cameras):  # noqa: F811
    trusted = ("--central", central_dsn, "--authority", str(authority[1]))
    done = facesel("central", "list", *trusted, "--camera", "cam-c", "--camera", "cam-a")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ("facesel central list: note: --camera cam-c: no camera of that id is registered in the "
                           "store (registered: cam-a, cam-b), so it has no record here\n")
    assert done.stdout.splitlines()[1].split()[0] == two_cameras["cam-a"][0]
    done = facesel("central", "list", *trusted, "--camera", "cam-b")  # a known camera: no note
    assert (done.returncode, done.stderr) == (0, "")


def test_a_central_head_its_out_file_cannot_take_is_printed_and_the_file_named(central_dsn, authority, tmp_path):
    # Before: "[Errno 28] No space left on device" (or ENOTDIR here), naming no file, the head never shown.
    from facesel.central.pg_backend import PostgresVault

    with PostgresVault.create(central_dsn, authority[0]):
        pass
    (tmp_path / "file").write_text("")
    out = tmp_path / "file" / "head.json"
    done = facesel("central", "head", "--central", central_dsn, "--out", str(out))
    assert done.returncode == 1
    assert '"format": "facesel-central-head"' in done.stdout
    assert done.stderr.startswith(f"facesel central head: error: --out {out}: could not be written (Not a directory); "
                                  "the head is printed above"), done.stderr


def test_central_audit_of_a_vault_folder_that_is_not_there_is_named_before_the_store_is_asked(tmp_path):
    # Before: "nosuch: ANCHOR the camera's log does not verify, so its anchors prove nothing: no vault at
    # nosuch", a tampering verdict for a typo (after the store's log was checked).
    (tmp_path / "file").write_text("")
    for vault, said in ((tmp_path / "nosuch", "no such folder"), (tmp_path / "file", "a file, not a folder")):
        done = facesel("central", "audit", "--central", "host=127.0.0.1 port=1 dbname=x user=x", "--vault", str(vault))
        assert done.returncode == 1
        assert done.stderr.strip() == (f"facesel central audit: error: --vault {vault}: {said}: give the camera's vault "
                                       "folder (the one 'facesel sync --vault' forwards)"), done.stderr
        assert "ANCHOR" not in done.stdout
