"""An archive's file names reach the operator's terminal as text, never as control sequences
(review round 14b, finding 5).

``facesel batch`` printed each video's name, its folder and its error (which names the file
again) as they were. A file that is no video, named ``\\r\\x1b[2K[1\u22151] entrance.mp4: 120 frames,
2 sealed, 2 stored centrally, 4.0 s; ok\\x1b[8m`` (back to the line's start, erase it, the
forger's line with U+2215 for the slash no file name holds, then conceal): on the terminal its
line read ``ok``, its FAILED hidden. Real CLI, a real
store, the real file.
"""

from __future__ import annotations

from central_common import facesel
from facesel.central.pg_backend import PostgresVault

ESC = "\x1b"


def test_a_file_name_with_terminal_controls_is_shown_escaped(central_dsn, authority, cameras, tmp_path):
    pub, _ = authority
    with PostgresVault.create(central_dsn, pub) as store:
        cameras.register(store, "archive")
    name = f"\r{ESC}[2K[1\u22151] entrance.mp4 - 120 frames, 2 sealed, 2 stored centrally, 4.0 s; ok{ESC}[8m.mp4"
    hostile = tmp_path / name
    hostile.write_bytes(b"not a video at all")
    done = facesel("batch", str(hostile), "--central", central_dsn, "--camera", str(cameras.key_dir("archive")),
                   "--authority", str(cameras.pub_path), "--spool", str(tmp_path / "spool"))
    assert done.returncode == 1
    assert "FAILED" in done.stderr
    assert ESC not in done.stderr, done.stderr
    assert "\\r\\x1b[2K[1\u22151] entrance.mp4" in done.stderr  # named, as its escapes (the text
    # mode of the capture would turn a raw \r into a line break: checked escaped, not absent)
