"""``index.html`` beside the folders that ``facesel open`` writes: one row per record with human
times (local and UTC), camera, quality, track length and a thumbnail that links the snapshot
already in the record's folder (the page adds no picture of its own).

Built with the standard library only (``open`` must not need the ``review`` extra); every value
goes through :func:`html.escape`.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from facesel.review.times import duration_text, local_text, utc_text
from facesel.vault.fsutil import atomic_write
from facesel.vault.opening import OpenedRecord

_STYLE = ("body{font-family:system-ui,sans-serif;margin:1em}.banner{background:#b3261e;color:#fff;padding:.5em 1em;"
          "font-weight:600}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.3em .6em;"
          "text-align:left}img{height:96px}.mono{font-family:ui-monospace,monospace;font-size:.85em}")
_HEAD = ("Snapshot", "Sealed (local)", "Sealed (UTC)", "Camera", "Quality", "Track length", "Clip frames", "Record")


def _row(item: OpenedRecord) -> str:
    row, rid = item.row, item.row.record_id
    ext = ".png" if item.snapshot.blobs.get("crop", b"")[:4] == b"\x89PNG" else ".jpg"
    crop = escape(f"{rid}/crop{ext}")
    length = None if row.first_timestamp is None or row.last_timestamp is None \
        else max(0.0, row.last_timestamp - row.first_timestamp)
    cells = [f'<a href="{crop}"><img src="{crop}" alt="snapshot of record {escape(rid)}"></a>',
             escape(local_text(row.sealed_at)), escape(utc_text(row.sealed_at)), escape(row.camera_id),
             "-" if row.quality is None else f"{row.quality:.3g}", escape(duration_text(length)),
             str(sum(1 for n in item.snapshot.blobs if n.startswith("clip/"))),
             f'<a class="mono" href="{escape(rid)}/meta.json">{escape(rid)}</a>']
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def write_index(out_dir: Path, opened: list[OpenedRecord], entry: dict, vault_dir: Path) -> Path:
    """Write ``out_dir/index.html`` for ``opened`` (as returned by ``open_records``) and the vault's
    ``open`` entry ``entry``; returns its path."""
    shares = ", ".join(str(s) for s in entry.get("shares", []))
    reason, opened_by = escape(str(entry.get("reason", ""))), escape(str(entry.get("opened_by", "")))
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>facesel: opened records</title>'
            f"<style>{_STYLE}</style></head><body>"
            f'<p class="banner">Faces: decrypted records opened for &quot;{reason}&quot;. '
            "Handle them under your case rules; every opening is logged.</p>"
            f"<h1>{len(opened)} opened record(s)</h1>"
            f"<p>Opened {escape(local_text(entry['time']))} ({escape(utc_text(entry['time']))}) by "
            f"{opened_by} with shares {escape(shares)}; vault {escape(str(vault_dir))}.</p>"
            "<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in _HEAD) + "</tr></thead><tbody>"
            + "".join(_row(item) for item in opened) + "</tbody></table></body></html>\n")
    path = Path(out_dir) / "index.html"
    atomic_write(path, html.encode("utf-8"), mode=0o600)
    return path
