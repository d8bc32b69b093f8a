"""``facesel demo``: the whole privacy story end to end on a bundled default video.

1. The authority makes its key material (3 share holders, any 2 can open).
2. The camera runs the pipeline on the video and seals one snapshot per person into a vault;
   it holds the public key only.
3. ``list`` shows what the camera stored (metadata, no faces).
4. Two share holders open every record for a stated reason; the opening is audit-logged.
5. The audit log's hash chain is verified.

Each step calls the real subcommand, so the demo exercises exactly what a user would run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_VIDEO = Path("videos") / "arcade_walkers_1080p.mp4"


def _default_input() -> Path:
    """The arcade video of the shared data when present (more people, 1080p); otherwise the
    walking clip shipped inside the package, so that the demo runs on a fresh install."""
    from facesel.data import data_root
    from facesel.demo_data import ATTRIBUTION, demo_clip

    root = data_root()
    if root is not None and (root / DEFAULT_VIDEO).is_file():
        return root / DEFAULT_VIDEO
    print(f"using the demo clip shipped with facesel. {ATTRIBUTION}")
    return demo_clip()


def _step(title: str, argv: list[str]) -> None:
    from facesel.cli import main

    print(f"\n== {title}\n$ facesel {' '.join(argv)}", flush=True)
    code = main(argv)
    if code != 0:
        raise RuntimeError(f"step failed with exit code {code}: facesel {' '.join(argv)}")


def _run(args: argparse.Namespace) -> int:
    video = Path(args.input) if args.input else _default_input()
    work = Path(args.workdir)
    if work.exists() and any(work.iterdir()):
        raise ValueError(f"--workdir {work} is not empty; choose a new folder")
    authority, vault, opened, report = work / "authority", work / "vault", work / "opened", work / "report"

    _step("authority: key material (offline, once)",
          ["authority", "init", "--out", str(authority), "--shares", "3", "--threshold", "2"])
    run_argv = ["run", str(video), "--vault", str(vault), "--authority", str(authority / "authority.pub"),
                "--report", str(report)]
    if args.max_frames:
        run_argv += ["--max-frames", str(args.max_frames)]
    _step("camera: select and seal one snapshot per person", run_argv)
    _step("camera: what is stored (metadata only)", ["list", "--vault", str(vault)])
    shares = sorted(p for p in (authority / "shares").iterdir() if p.is_file())[:2]
    open_argv = ["open", "--vault", str(vault), "--reason", "demo: authorised opening", "--all", "--out", str(opened)]
    for share in shares:
        open_argv += ["--share", str(share)]
    _step("authority: two of three share holders open the records", open_argv)
    _step("anyone: verify the audit log", ["audit", "verify", "--vault", str(vault)])
    print(f"\ndone: decrypted snapshots in {opened}, quality plots in {report}, vault in {vault}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="end-to-end demo: authority keys, run a video into a vault, list, open with 2 of 3 shares, audit",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("--input", default=None, help="video to use (default: the shared arcade video, else the clip shipped with facesel)")
    p.add_argument("--workdir", default="facesel-demo", help="new folder for everything (default ./facesel-demo)")
    p.add_argument("--max-frames", type=int, default=None, help="stop the video after N frames")
    p.set_defaults(func=_run)
