"""`facesel verify-bundle` holds one record at a time, not the bundle (review round 11, attack20), and no
record whole either (session 21, desk22).

It held every member, a re-packed copy and the file read whole: about three times the bundle's size
(12 GiB for a bundle at the 4 GiB cap). Two genuine bundles of the same records' size, one record
and eight, are verified in fresh processes in the same run: the eight-record bundle may cost at
most half its extra size in extra peak memory (main's code: about three times it). Compared with the
one-record bundle, never an absolute bound: the interpreter's and libraries' own memory cancels.
"""

from __future__ import annotations

from large_bundle import make_bundle, verify_peak


def test_verifying_a_larger_bundle_costs_no_more_memory_than_its_largest_record(tmp_path, shared_data):
    sizes, grown = {}, {}
    for records in (1, 8):
        root = tmp_path / f"r{records}"
        root.mkdir()
        bundle = make_bundle(root, shared_data, records)
        result = verify_peak(bundle)
        assert result["verdict"] == f"VERIFIED {records} record(s)", result
        sizes[records], grown[records] = bundle.stat().st_size, result["grown_kib"] * 1024
    extra_size = sizes[8] - sizes[1]
    assert extra_size > 6 * sizes[1]  # eight records of one record's size: the comparison measures something
    extra_peak = grown[8] - grown[1]
    assert extra_peak < 0.5 * extra_size, (
        f"verifying {sizes[8] >> 20} MiB grew the peak by {grown[8] >> 20} MiB, {sizes[1] >> 20} MiB by "
        f"{grown[1] >> 20} MiB: {extra_peak / extra_size:.2f} bytes held per extra byte of bundle")


def test_verifying_a_larger_record_costs_no_more_memory_than_a_small_one(tmp_path, shared_data):
    """Session 21 (desk22): a record is checked in pieces too. Two one-record bundles, of 2 and 24 clip
    frames (about 6 and 52 MiB), in fresh processes, same run: the large record may cost at most half
    its extra size in extra peak (the whole-record check before: 3.00 bytes per extra byte; now 0.02)."""
    sizes, grown = {}, {}
    for frames in (2, 24):
        root = tmp_path / f"f{frames}"
        root.mkdir()
        bundle = make_bundle(root, shared_data, 1, frames=frames)
        result = verify_peak(bundle)
        assert result["verdict"] == "VERIFIED 1 record(s)", result
        sizes[frames], grown[frames] = bundle.stat().st_size, result["grown_kib"] * 1024
    extra_size = sizes[24] - sizes[2]
    assert extra_size > 6 * sizes[2]  # a record many times larger: the comparison measures something
    extra_peak = grown[24] - grown[2]
    assert extra_peak < 0.5 * extra_size, (
        f"verifying a record of {sizes[24] >> 20} MiB grew the peak by {grown[24] >> 20} MiB, one of "
        f"{sizes[2] >> 20} MiB by {grown[2] >> 20} MiB: {extra_peak / extra_size:.2f} bytes held per extra byte")
