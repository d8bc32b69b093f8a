"""Review round 10c (10b's open item): ``facesel central list`` printed the store's rows unverified.

The listing needs no key, and it printed each row as the store's tables hold it: a row the tables'
owner relabelled (another camera, a moved seal time), and a record signed by a key only the store's
``cameras`` table vouches for (a swapped key, a camera the authority never registered), were listed
like genuine ones, though an opening refuses them (10b, findings 1 and 5). Now every row is checked
against its signed record under the keys the authority's signed ``authority.pub`` registered; a row
that fails is left out of the listing and named on stderr with its reason (``REJECTED``), the
summary counts them, and the exit code is 1. ``--unverified`` lists the rows as they are, saying so.

The attackers are real: the tables' owner's own SQL on a real PostgreSQL server (the fixtures of
the two tests named below). Each fails on main's code: it listed every row, exit 0.
"""

from __future__ import annotations

import json

import pytest
from central_common import facesel
from test_central_registry_swap import swapped  # noqa: F401  (a fixture)
from test_central_row_relabel import RELABELS, _relabel, two_cameras  # noqa: F401  (a fixture)


def _listing(dsn: str, *flags: str):
    """(exit code, the record ids listed, stderr, the summary line) of ``central list`` (text)."""
    done = facesel("central", "list", "--central", dsn, *flags)
    lines = done.stdout.splitlines()
    listed = [line.split()[0] for line in lines[1:-1]]
    return done.returncode, listed, done.stderr, lines[-1] if lines else ""


@pytest.mark.parametrize("how", sorted(RELABELS))
def test_a_relabelled_row_is_left_out_of_the_listing_and_named(central_dsn, authority, two_cameras,  # noqa: F811
                                                               how):
    victim = _relabel(central_dsn, two_cameras, how)
    trusted = ("--authority", str(authority[1]))
    code, listed, err, summary = _listing(central_dsn, *trusted)
    assert code == 1, err
    assert listed == [two_cameras["cam-a"][0]]  # the relabelled row is not shown as genuine
    assert (f"facesel central list: REJECTED record {victim}: the store's row disagrees with the record's signed "
            "header") in err
    assert summary.startswith("1 record(s) from 1 camera(s), each checked against its signed record")
    assert "; 1 row(s) left out, REJECTED (reasons on stderr)" in summary
    if how == "another-camera":  # since round 13a an unfiltered listing also names cam-b's record without its row
        assert f"REJECTED record {victim} of camera cam-b: the store's log records it as received" in err
        assert summary.endswith("; 1 record(s) the store's log holds in this selection without their row, REJECTED "
                                "(reasons on stderr)")
    else:
        assert summary.endswith("; 1 row(s) left out, REJECTED (reasons on stderr)")
    # --json lists the genuine rows only, the refusal on stderr as well
    done = facesel("central", "list", "--central", central_dsn, "--json", *trusted)
    assert done.returncode == 1
    assert [r["record_id"] for r in json.loads(done.stdout)] == [two_cameras["cam-a"][0]]
    assert f"REJECTED record {victim}: the store's row disagrees" in done.stderr


def test_records_signed_by_keys_only_the_store_vouches_for_are_not_listed(central_dsn, authority,
                                                                         swapped):  # noqa: F811
    genuine, forged, phantom = swapped
    _, folder = authority
    code, listed, err, summary = _listing(central_dsn, "--authority", str(folder))
    assert code == 1
    assert listed == [genuine]
    assert f"REJECTED record {forged}: the signature of camera 'cam-a' does not match" in err
    assert f"REJECTED record {phantom}: camera 'cam-z' is not registered with the authority" in err
    assert summary.endswith("; 2 row(s) left out, REJECTED (reasons on stderr)"), summary
    assert f"the cameras' keys from the authority's ({folder})" in summary


def test_without_authority_the_stores_copy_decides_and_says_so(central_dsn, authority, two_cameras):  # noqa: F811
    """The store's copy of authority.pub was made by ``central init`` before cam-a and cam-b were
    registered: it cannot show their records genuine, and the refusal says why and names the fix. The
    authority's own file (newer, same key) lists them."""
    code, listed, err, summary = _listing(central_dsn)
    assert (code, listed) == (1, [])
    for record_id, _ in two_cameras.values():
        assert (f"REJECTED record {record_id}: camera 'cam-{'a' if record_id == two_cameras['cam-a'][0] else 'b'}' "
                "is not registered with the store's copy of authority.pub, which may predate the camera's "
                "registration (give the authority's own with --authority)") in err
    assert "the cameras' keys from the store's copy of authority.pub" in summary
    code, listed, err, _ = _listing(central_dsn, "--authority", str(authority[1] / "authority.pub"))
    assert (code, err) == (0, "")
    assert listed == [rid for rid, _ in sorted(two_cameras.values(), key=lambda sealed: sealed[1])]


def test_rows_that_agree_are_listed_and_unverified_lists_what_the_store_holds(central_dsn, authority,
                                                                              two_cameras):  # noqa: F811
    everything = sorted(two_cameras.values(), key=lambda sealed: sealed[1])
    code, listed, err, summary = _listing(central_dsn, "--authority", str(authority[1]))
    assert (code, err) == (0, "")
    assert listed == [rid for rid, _ in everything]
    assert summary.startswith("2 record(s) from 2 camera(s), each checked against its signed record")
    victim = _relabel(central_dsn, two_cameras, "another-camera")
    code, listed, err, summary = _listing(central_dsn, "--unverified")
    assert (code, err) == (0, "")
    assert sorted(listed) == sorted(rid for rid, _ in everything) and victim in listed
    assert summary == "2 record(s) from 1 camera(s), as the store gives them, unchecked (--unverified)"


def test_central_init_again_gives_the_store_the_authoritys_newer_copy(central_dsn, authority, two_cameras):  # noqa: F811
    """``central init --authority`` with the authority's file, re-signed since (cameras registered,
    a higher serial), renews the store's copy: the listing without ``--authority`` then shows
    their records. On main the copy was renewed only for a file adding epochs: still refused."""
    assert _listing(central_dsn)[:2] == (1, [])
    done = facesel("central", "init", "--central", central_dsn, "--authority", str(authority[1] / "authority.pub"))
    assert done.returncode == 0, done.stderr
    code, listed, err, summary = _listing(central_dsn)
    assert (code, err) == (0, "")
    assert listed == [rid for rid, _ in sorted(two_cameras.values(), key=lambda sealed: sealed[1])]
    assert "the cameras' keys from the store's copy of authority.pub" in summary
