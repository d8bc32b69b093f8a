"""Peak memory of ``verify-bundle`` on a large genuine bundle against a one-record bundle of the same
records' size, in fresh processes, on this tree and (``--before``) a copy of main's ``python/``
(review round 11, attack20: it held about three times the bundle).

    python benchmarks/bundle_verify_memory.py --records 48 --before /tmp/bundle21-main/python
    python benchmarks/bundle_verify_memory.py --largest-record 64 --before COPY/python  # one record's size

With ``--largest-record FRAMES`` the two bundles hold one record each, of ``--frames`` and of FRAMES
clip frames (session 21, desk22: the verifier held about three times its largest record).

The bundles are made in a temporary folder by ``tests/large_bundle.py`` (a vault seals each record:
a real ORL face enlarged to ``--side`` pixels with seeded noise, ``--frames`` clip frames;
``facesel open --bundle`` exports them). Each verifier prints its verdict and the growth of its
peak resident size (KiB, ``VmHWM``) over ``verify_bundle``; "per extra byte" is the extra growth of
the large bundle over the small one divided by its extra size. Not a test: nothing is asserted
(``tests/test_bundle_verify_memory.py`` is the test).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from large_bundle import make_bundle, verify_peak  # noqa: E402

from facesel.data import data_root  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=48, help="records in the large bundle")
    parser.add_argument("--frames", type=int, default=2, help="clip frames a record")
    parser.add_argument("--side", type=int, default=640, help="pixels a side of each frame")
    parser.add_argument("--largest-record", type=int, metavar="FRAMES",
                        help="compare a one-record bundle of --frames frames with one of FRAMES frames instead")
    parser.add_argument("--before", help="a copy of main's python/ (the compiled modules copied in)")
    args = parser.parse_args()
    if data_root() is None:
        sys.exit("no shared data: set FACESEL_DATA")
    with tempfile.TemporaryDirectory(prefix="facesel-bundle-memory-") as tmp:
        bundles = {}
        large = args.largest_record is not None  # then "records" below is the large record's frames
        count = args.largest_record if large else args.records
        for records in (1, count):
            root = Path(tmp, f"r{records}")
            root.mkdir()
            bundles[records] = make_bundle(root, data_root(), 1 if large else records,
                                           (args.frames if records == 1 else count) if large else args.frames,
                                           args.side)
        trees = {"now": None, **({"before": args.before} if args.before else {})}
        for tree, python_path in trees.items():
            grown = {}
            for records, bundle in bundles.items():
                result = verify_peak(bundle, python_path)
                grown[records] = result["grown_kib"]
                print(json.dumps({"tree": tree, "records": records, "bundle_kib": bundle.stat().st_size >> 10,
                                  **result}), flush=True)
            extra = (bundles[count].stat().st_size - bundles[1].stat().st_size) / 1024
            print(json.dumps({"tree": tree, "per_extra_byte": round((grown[count] - grown[1]) / extra, 3),
                              "large_grown_per_byte": round(grown[count] * 1024
                                                            / bundles[count].stat().st_size, 3)}), flush=True)


if __name__ == "__main__":
    main()
