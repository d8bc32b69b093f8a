"""Soak benchmark of ``facesel serve`` (not a test, not in CI): memory, open files and disk over time.

Starts a real HTTP MJPEG server (the walking clip, looping, live at 12.5 frames/s), an authority
with a short retention (so that the vault's expiry runs during the soak), and ``facesel serve``
as a subprocess with one camera on that stream. Every ``--every`` seconds it samples the serve
process's resident memory (VmRSS), its open file descriptors, the vault's size on disk and the
``/metrics`` counters; at the end it sends SIGTERM and records the exit code. Output: a CSV and a
plot (default ``docs/serve_soak.csv`` / ``docs/serve_soak.png``).

Run: ``python benchmarks/serve/soak.py --minutes 30``
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from mjpeg_server import MJPEGServer, read_gif  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from facesel.data import data_root  # noqa: E402


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def disk_mib(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20 if folder.exists() else 0.0


def scrape(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        text = reply.read().decode()
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--scorer", default="laplacian", choices=("default", "laplacian"))
    parser.add_argument("--csv", default=str(ROOT / "docs" / "serve_soak.csv"))
    parser.add_argument("--plot", default=str(ROOT / "docs" / "serve_soak.png"))
    args = parser.parse_args()
    root = data_root()
    if root is None:
        return print("shared data not found (FACESEL_DATA)", file=sys.stderr) or 2
    from facesel.vault import create_authority

    work = Path(tempfile.mkdtemp(prefix="facesel-soak-"))
    create_authority(work / "authority", shares=3, threshold=2, epoch_seconds=60.0, retention_seconds=300.0,
                     horizon_seconds=2 * 86400.0, start=time.time() - 120)
    port = 19000 + os.getpid() % 1000
    server = MJPEGServer(read_gif(root / "videos" / "intel_face_demographics_walking.gif"), fps=12.5).start()
    (work / "facesel.toml").write_text(
        f'[serve]\nlisten = "127.0.0.1:{port}"\nlog_format = "json"\nlog_level = "warning"\n'
        f'[cameras.soak]\nsource = "{server.url}"\nvault = "vault"\nauthority = "authority/authority.pub"\n'
        f'[cameras.soak.pipeline]\nscorer = "{args.scorer}"\n')
    log = (work / "serve.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "facesel", "serve", "--config", str(work / "facesel.toml")],
                               stderr=log, stdout=subprocess.DEVNULL)
    rows = []
    start = time.monotonic()
    try:
        time.sleep(5)
        while time.monotonic() - start < args.minutes * 60:
            try:
                metrics = scrape(port)
            except OSError:
                metrics = {}
            rows.append({
                "t_s": round(time.monotonic() - start, 1), "rss_mib": round(rss_mib(process.pid), 2),
                "open_fds": len(os.listdir(f"/proc/{process.pid}/fd")),
                "vault_mib": round(disk_mib(work / "vault"), 3),
                "records_on_disk": len(list((work / "vault" / "records").glob("*.fsr"))) if (work / "vault").exists() else 0,
                "frames_processed": metrics.get("facesel_frames_processed_total", 0),
                "frames_dropped": metrics.get("facesel_frames_dropped_total", 0),
                "sealed": metrics.get("facesel_records_sealed_total", 0),
            })
            print(json.dumps(rows[-1]), flush=True)
            time.sleep(args.every)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(60)
        server.stop()
        log.close()
    print(f"serve exited with {code} after SIGTERM")
    with open(args.csv, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    _plot(rows, args.plot, args.minutes, code)
    return 0


def _plot(rows, path, minutes, code) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [r["t_s"] / 60 for r in rows]
    fig, axes = plt.subplots(3, 1, figsize=(7, 7), sharex=True)
    axes[0].plot(t, [r["rss_mib"] for r in rows])
    axes[0].set_ylabel("RSS (MiB)")
    axes[1].plot(t, [r["open_fds"] for r in rows], color="tab:orange")
    axes[1].set_ylabel("open files")
    axes[2].plot(t, [r["vault_mib"] for r in rows], color="tab:green", label="vault on disk (MiB)")
    axes[2].plot(t, [r["records_on_disk"] / 100 for r in rows], color="tab:red", label="records on disk / 100")
    axes[2].set_ylabel("disk")
    axes[2].legend(loc="upper left")
    axes[2].set_xlabel("minutes")
    fig.suptitle(f"facesel serve soak: 1 camera, live MJPEG 12.5 frames/s, {minutes:.0f} min\n"
                 f"{int(rows[-1]['frames_processed'])} frames processed, {int(rows[-1]['sealed'])} sealed; "
                 f"after SIGTERM: {code}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    sys.exit(main())
