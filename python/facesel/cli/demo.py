"""``facesel demo``: the whole privacy story end to end on a bundled default video.

1. The authority makes its key material (3 share holders, any 2 can open). Each share is
   protected by a generated passphrase, written one file per holder into ``passphrases/``, apart
   from the shares (in real life each holder gets their share and, separately, their passphrase).
2. The camera makes its own signing key and pins the authority's fingerprint (enrolment); two
   share holders register the camera with the authority.
3. The camera runs the pipeline on the video and seals one signed snapshot per person into a
   vault; it holds public keys and its own signing key only.
4. ``list`` shows what the camera stored (metadata, no faces), each record's signature checked.
5. A witness files away the audit log's signed head.
6. Two share holders open every record for a stated reason; the opening is logged in the vault's
   log and in the authority's own log.
7. The audit log is verified: signatures, the chain, the records, the authority's log, and the
   witnessed head.

Each step calls the real subcommand, so the demo exercises exactly what a user would run, and
echoes it as a command that can be pasted into a shell.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from facesel.cli.central import positive_int
from facesel.writable import refuse_unwritable_folder

DEFAULT_VIDEO = Path("videos") / "arcade_walkers_1080p.mp4"


def _default_input() -> Path:
    """The arcade video of the shared data when present (more people, 1080p); otherwise the
    walking clip shipped inside the package, so that the demo runs on a fresh install."""
    from facesel.data import data_root
    from facesel.demo_data import ATTRIBUTION, demo_clip

    root = data_root()
    if root is not None and (root / DEFAULT_VIDEO).is_file():
        return root / DEFAULT_VIDEO
    from facesel.data import data_env_problem

    problem = data_env_problem()  # a mistyped FACESEL_DATA is said, not silently replaced by the clip
    print(f"using the demo clip shipped with facesel{f' ({problem})' if problem else ''}. {ATTRIBUTION}")
    return demo_clip()


def _step(title: str, argv: list[str]) -> None:
    from facesel.cli import main

    command = f"facesel {shlex.join(argv)}"  # quoted: the echoed line can be pasted into a shell
    print(f"\n== {title}\n$ {command}", flush=True)
    code = main(argv)
    if code in _SIGNAL_CODES:
        raise _Stopped(code, f"facesel demo: stopped by {_SIGNAL_CODES[code]} during: {command}; run the demo "
                             "again with --replace")
    if code != 0:
        raise RuntimeError(f"step failed with exit code {code}: {command}")


# A step that a signal stopped reports it as its exit code (facesel run: 130 for Ctrl-C, 143 for
# SIGTERM); the demo ends with the same code, not with 1 as for a failed step.
_SIGNAL_CODES = {130: "Ctrl-C (SIGINT)", 143: "SIGTERM"}


class _Stopped(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


DEMO_MARKER = ".facesel-demo"
"""Written first into a demo's folder: only a folder holding it may be replaced by ``--replace``."""


def _prepare_workdir(work: Path, replace: bool) -> None:
    """An empty or new folder is used; a previous demo's folder is deleted with ``--replace``
    (it holds the demo's opened snapshots, faces in the clear, so it is not kept around); any
    other non-empty folder is refused: the demo never deletes what it did not make."""
    import shutil

    if work.exists() and any(work.iterdir()):
        if not (work / DEMO_MARKER).is_file():
            raise ValueError(f"--workdir {work} is not empty and holds no earlier demo; choose a new folder")
        if not replace:
            raise ValueError(f"--workdir {work} holds an earlier demo: add --replace to delete it and run again, "
                             "or choose a new folder")
        shutil.rmtree(work)
        print(f"deleted the earlier demo in {work}")
    work.mkdir(parents=True, exist_ok=True)
    (work / DEMO_MARKER).write_text("made by facesel demo; 'facesel demo --replace' may delete this folder\n")


def _run(args: argparse.Namespace) -> int:
    import sys

    try:
        return _run_steps(args)
    except _Stopped as stop:
        print(stop, file=sys.stderr)
        return stop.code


def _run_steps(args: argparse.Namespace) -> int:
    from facesel.sources import is_live_target

    # Checked before anything is made: a mistyped --input used to fail at step 4, leaving key
    # material in --workdir, and a file given as --workdir ended in "[Errno 20] Not a directory".
    if args.input and not is_live_target(args.input) and not Path(args.input).expanduser().exists():
        raise ValueError(f"--input {args.input} does not exist")
    work = Path(args.workdir)
    if work.exists() and not work.is_dir():
        raise ValueError(f"--workdir {work} is a file; give a new or empty folder")
    refuse_unwritable_folder("--workdir", work)
    video = Path(args.input) if args.input else _default_input()
    _prepare_workdir(work, args.replace)
    authority, vault, opened, report = work / "authority", work / "vault", work / "opened", work / "report"
    camera, passphrases, witness = work / "camera", work / "passphrases", work / "witness"
    # The demo's shares use Argon2id "interactive" (64 MiB) to stay quick; real ones default to "moderate".
    kdf = ["--kdf-level", "interactive"]

    _step("authority: key material (offline, once); a passphrase per holder, kept apart from the shares",
          ["authority", "init", "--out", str(authority), "--shares", "3", "--threshold", "2",
           "--generate-passphrases", str(passphrases), *kdf])
    from facesel.vault.keys import AuthorityPublic

    fingerprint = AuthorityPublic.load(authority / "authority.pub").fingerprint
    shares = sorted(p for p in (authority / "shares").iterdir() if p.is_file())[:2]
    holders = []
    for share in shares:  # share-<i>-of-3.json belongs to holder i
        holders += ["--share", str(share), "--passphrase-file", str(passphrases / f"holder-{share.name.split('-')[1]}.txt")]
    _step("camera: its own signing key; enrolment pins the authority's fingerprint",
          ["camera", "init", "--out", str(camera), "--camera-id", "demo-cam-1", "--authority-fingerprint", fingerprint])
    _step("authority: two share holders register the camera",
          ["authority", "register", "--dir", str(authority), "--camera", str(camera / "camera.pub"), *holders])
    run_argv = ["run", str(video), "--vault", str(vault), "--authority", str(authority / "authority.pub"),
                "--camera", str(camera), "--camera-id", "demo-cam-1", "--report", str(report)]
    if args.max_frames:
        run_argv += ["--max-frames", str(args.max_frames)]
    _step("camera: select, seal and sign one snapshot per person", run_argv)
    _step("camera: what is stored (metadata only; every record's signature checked)",
          ["list", "--vault", str(vault), "--authority", str(authority / "authority.pub")])
    _step("witness: file away the audit log's signed head",
          ["audit", "head", "--vault", str(vault), "--out", str(witness / "head.json")])
    if _sealed(vault):
        _step("authority: two of three share holders open the records",
              ["open", "--vault", str(vault), "--reason", "demo: authorised opening", "--all", "--out", str(opened),
               *holders])
    else:  # an opening of no record is refused before any share is read (ux18)
        print("\n# authority: no record was sealed from this input, so there is nothing to open")
    _step("anyone: verify the audit log, the records, the authority's log and the witnessed head",
          ["audit", "verify", "--vault", str(vault), "--authority", str(authority), "--expect",
           str(witness / "head.json")])
    print(f"\ndone: decrypted snapshots in {opened}, quality plots in {report}, vault in {vault}" if opened.exists()
          else f"\ndone: no snapshot to open; vault in {vault}")
    return 0


def _sealed(vault: Path) -> int:
    """How many records the vault's index lists."""
    from facesel.vault.opening import open_index

    index = open_index(vault)
    try:
        return len(index.rows())
    finally:
        index.close()


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``facesel demo`` to ``subparsers``."""
    p = subparsers.add_parser(
        "demo",
        help="end-to-end demo: authority keys, camera enrolment, run a video into a vault, list, open with "
             "2 of 3 shares, audit against a witnessed head",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("--input", default=None, help="video to use (default: the shared arcade video, else the clip shipped with facesel)")
    p.add_argument("--workdir", default="facesel-demo", help="new folder for everything (default ./facesel-demo)")
    p.add_argument("--max-frames", type=positive_int, default=None, metavar="N",
                   help="stop the video after N frames (N >= 1)")
    p.add_argument("--replace", action="store_true",
                   help="delete an earlier demo in --workdir first (only a folder the demo made)")
    p.set_defaults(func=_run)
