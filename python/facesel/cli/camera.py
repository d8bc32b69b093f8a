"""``facesel camera init``: a camera's own signing key, pinned to one authority at enrolment."""

from __future__ import annotations

import argparse
from pathlib import Path

from facesel.cli.vault_errors import clean_errors
from facesel.vault.keys import AuthorityPublic
from facesel.vault.signing import CameraKey, check_camera_id, check_fingerprint


def camera_id_arg(text: str) -> str:
    """``--camera-id`` checked as the flag (an argparse type): ux23 found ``camera init --camera-id
    'gate 3'`` answered ``camera id must be ...`` at exit 1, naming no flag."""
    try:
        return check_camera_id(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err).replace("camera id must be", "must be", 1)) from None


@clean_errors
def _init(args: argparse.Namespace) -> int:
    if (args.authority_fingerprint is None) == (args.authority is None):
        raise ValueError("give exactly one of --authority-fingerprint FP (as printed by 'facesel authority init') "
                         "or --authority FILE (trust the fingerprint of that authority.pub)")
    if args.authority_fingerprint is not None:
        pin = check_fingerprint(args.authority_fingerprint, "--authority-fingerprint")
    else:
        pin = AuthorityPublic.load(Path(args.authority)).fingerprint
    camera = CameraKey.create(args.out, args.camera_id, pin)
    print(f"camera {camera.camera_id}: signing key in {Path(args.out) / 'camera.key'} (stays on the camera)")
    print(f"  pinned authority fingerprint {pin}")
    print(f"  register it: facesel authority register --dir AUTHORITY --camera {Path(args.out) / 'camera.pub'} "
          "--share ... (K shares)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``facesel camera`` (init) to ``subparsers``."""
    camera = subparsers.add_parser("camera", help="the camera's signing key: init")
    sub = camera.add_subparsers(dest="camera_command", metavar="ACTION", required=True)
    p = sub.add_parser("init", help="make the camera's Ed25519 signing key and pin the authority")
    p.add_argument("--out", required=True, help="folder for camera.key (secret, 0600) and camera.pub")
    p.add_argument("--camera-id", required=True, type=camera_id_arg, help="the camera's name, e.g. gate-3 (letters, digits, . _ : -)")
    p.add_argument("--authority-fingerprint", metavar="FP", help="the authority's fingerprint to pin (64 hex)")
    p.add_argument("--authority", metavar="FILE", help="pin the fingerprint of this authority.pub instead")
    p.set_defaults(func=_init)
