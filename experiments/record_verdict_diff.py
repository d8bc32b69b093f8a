"""``verify_bundle``'s verdict on bundles whose *records* are damaged, on this tree and on another
(``--before``: a copy of a tree that checked each record whole), word for word (session 21,
desk22: the record checked in pieces must refuse what the whole-record check refused, in its words).

    python experiments/record_verdict_diff.py --before COPY_OF_BEFORE/python

``bundle_verdict_diff.py`` flips the container's bytes, which the manifest's digests refuse before
any record is read; here every damaged bundle is signed again with the authority's key (what
whoever holds it can do), so that each one reaches the record checks. The bundle (two records of
two small noisy frames, ``tests/large_bundle.py``) is made in a temporary folder. Damage to the
first record's sealed file: every byte of its first 200 and last 96 flipped, every 37th between,
each with the checksum left as it is and recomputed; the file cut and lengthened; each picture and
meta.json changed by one byte; the record key changed, cut, or not base64; a picture listed under
another's path. Prints the count and every damaged bundle whose verdict differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

_VERDICTS = r"""
import json, sys
from facesel.review.verify_bundle import BundleError, verify_bundle
for path in sys.argv[1:]:
    try:
        verdict = "VERIFIED %d" % len(verify_bundle(path).records)
    except BundleError as err:
        verdict = "REFUSED " + str(err)
    except Exception as err:
        verdict = "RAISED %s: %s" % (type(err).__name__, err)
    print(json.dumps([path.rsplit("/", 1)[-1], verdict]))
"""


def _damaged(members: dict[str, bytes]) -> dict[str, dict[str, bytes]]:
    """name -> the bundle's members with one thing damaged (the manifest signed again later)."""
    manifest = json.loads(members["manifest.json"])
    item = manifest["records"][0]
    sealed = members[item["sealed"]]
    out = {}

    def with_record(label: str, raw: bytes) -> None:
        out[label] = {**members, item["sealed"]: raw}

    offsets = sorted(set(range(200)) | set(range(200, len(sealed) - 96, 37)) | set(range(len(sealed) - 96,
                                                                                         len(sealed))))
    for at in offsets:
        raw = bytearray(sealed)
        raw[at] ^= 0x10
        with_record(f"flip-{at}", bytes(raw))
        if at < len(sealed) - 32:
            body = bytes(raw[:-32])
            with_record(f"flip-{at}-summed", body + hashlib.blake2b(body, digest_size=32).digest())
    with_record("cut", sealed[:-1])
    with_record("longer", sealed + b"\0")
    for name, path in list(item["pictures"].items()) + [("meta", item["meta"])]:
        data = members[path]
        out[f"picture-{name.replace('/', '-')}"] = {**members, path: data[:-1] + bytes([data[-1] ^ 1])}
    return out


def _manifest_edits() -> dict[str, object]:
    def key_changed(item):
        item["record_key"] = "A" * 43 + "="

    def key_cut(item):
        item["record_key"] = item["record_key"][:20]

    def key_not_base64(item):
        item["record_key"] = "not base64!"

    def pictures_swapped(item):
        names = sorted(item["pictures"])
        item["pictures"][names[0]], item["pictures"][names[1]] = item["pictures"][names[1]], item["pictures"][names[0]]

    return {"key-changed": key_changed, "key-cut": key_cut, "key-not-base64": key_not_base64,
            "pictures-swapped": pictures_swapped}


def _write(folder: Path, label: str, members: dict[str, bytes], edit, signer) -> Path:
    from facesel.review.bundle import pack
    from facesel.vault.encoding import b64, canonical

    members = dict(members)
    manifest = json.loads(members.pop("manifest.json"))
    if edit is not None:
        edit(manifest["records"][0])
    manifest["files"] = {p: hashlib.sha256(d).hexdigest() for p, d in sorted(members.items())}
    manifest.pop("signature")
    manifest["signature"] = b64(signer.sign(canonical(manifest)))
    path = folder / f"{label}.zip"
    path.write_bytes(pack([("manifest.json", json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")),
                           *sorted(members.items())]))
    return path


def _verdicts(paths: list[Path], python_path: str) -> list[list]:
    from bundle_verdict_diff import verdicts_in  # this folder: a script's own

    return verdicts_in(_VERDICTS, paths, python_path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True,
                        help="a copy of the earlier python/ (the compiled modules copied in)")
    args = parser.parse_args()
    from large_bundle import make_bundle
    from test_vault_common import master_of

    from facesel.data import data_root
    from facesel.vault.keys import Keystore

    with tempfile.TemporaryDirectory(prefix="facesel-record-verdicts-") as tmp:
        bundle = make_bundle(Path(tmp), data_root(), 2, frames=2, side=48)
        adir = Path(tmp) / "auth"
        signer = Keystore(adir / "keystore").signer(master_of(adir))
        with zipfile.ZipFile(bundle) as zf:
            members = {i.filename: zf.read(i) for i in zf.infolist()}
        folder = Path(tmp) / "damaged"
        folder.mkdir()
        paths = [_write(folder, label, damaged, None, signer) for label, damaged in _damaged(members).items()]
        paths += [_write(folder, label, members, edit, signer) for label, edit in _manifest_edits().items()]
        now = _verdicts(paths, str(Path(__file__).resolve().parent.parent / "python"))
        before = _verdicts(paths, args.before)
    differing = [(a, b) for a, b in zip(before, now) if a != b]
    kinds = sorted({verdict.split(":")[0][:60] for _, verdict in now})
    print(json.dumps({"bundles": len(now), "differing": len(differing), "verified": sum(v.startswith("VERIFIED")
                                                                                      for _, v in now),
                      "distinct_verdict_starts": len(kinds)}))
    for a, b in differing:
        print(json.dumps({"bundle": a[0], "before": a[1][:200], "now": b[1][:200]}))


if __name__ == "__main__":
    main()
