"""Holders one at a time (facesel.review.holders): refusals worded like the CLI's, the rate limit on
wrong passphrases, cancellation, and share values zeroed once the master key is rebuilt."""

from __future__ import annotations

import pytest
from facesel.review.holders import MAX_FAILURES, AttemptLimiter, HolderCollector, TooManyAttempts, parse_share
from facesel.vault.errors import KeyMaterialError
from facesel.vault.keys import Keystore
from test_vault_common import FakeClock, make_authority, master_of, share_paths

PHRASES = [b"first holder words 1", b"second holder words 2", b"third holder words 3"]


@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    return make_authority(tmp_path_factory.mktemp("holders") / "auth", passphrases=PHRASES)[1]


def _collector(adir, clock, limiter=None):
    return HolderCollector(Keystore(adir / "keystore"), limiter or AttemptLimiter(2.0, clock))


def test_two_of_three_rebuild_the_master_and_the_values_are_zeroed(authority):
    collector = _collector(authority, FakeClock())
    paths = share_paths(authority)
    assert collector.add(paths[2].read_bytes(), "s3", PHRASES[2].decode()) == 3
    assert not collector.complete and collector.given == [3]
    with pytest.raises(KeyMaterialError, match="1 of 2 shares given"):
        collector.combine()
    collector.add(paths[0].read_bytes(), "s1", PHRASES[0].decode())
    held = list(collector._values.values())
    master, used = collector.combine()
    assert used == [1, 3] and master == master_of(authority, PHRASES)
    assert all(v == bytearray(len(v)) for v in held) and collector.given == []


def test_refusals_name_the_problem(authority, tmp_path):
    collector = _collector(authority, FakeClock())
    paths = share_paths(authority)
    collector.add(paths[0].read_bytes(), "s1", PHRASES[0].decode())
    with pytest.raises(KeyMaterialError, match="given twice"):
        collector.add(paths[0].read_bytes(), "s1-again", PHRASES[0].decode())
    other = make_authority(tmp_path / "other")[1]
    with pytest.raises(KeyMaterialError, match="share of authority"):
        collector.add(share_paths(other)[1].read_bytes(), "foreign", "")
    with pytest.raises(KeyMaterialError, match="not a share file"):
        collector.add(b"\x89PNG not json", "picture.png", "x")
    with pytest.raises(KeyMaterialError, match="far too big"):
        parse_share(b" " * (1 << 20), "huge")
    with pytest.raises(KeyMaterialError, match="give its passphrase"):
        collector.add(paths[1].read_bytes(), "s2", "")
    assert collector.given == [1] and collector.failures == 0


def test_wrong_passphrases_are_rate_limited_then_cancel_the_request(authority):
    clock = FakeClock()
    collector = _collector(authority, clock)
    share = share_paths(authority)[1].read_bytes()
    waits = []
    for attempt in range(MAX_FAILURES):
        with pytest.raises(KeyMaterialError, match="wrong passphrase"):
            collector.add(share, "s2", f"wrong guess number {attempt}")
        waits.append(collector.wait_seconds())
        if attempt < MAX_FAILURES - 1:
            with pytest.raises(TooManyAttempts, match="wait"):
                collector.add(share, "s2", PHRASES[1].decode())  # even the right one must wait
        clock.advance(waits[-1] + 0.001)
    assert waits == [2.0 * 2 ** i for i in range(MAX_FAILURES)]  # doubles after each failure
    assert collector.cancelled
    with pytest.raises(TooManyAttempts, match="cancelled"):
        collector.add(share, "s2", PHRASES[1].decode())
    assert collector.given == []


def test_a_new_request_does_not_reset_the_wait(authority):
    clock = FakeClock()
    limiter = AttemptLimiter(2.0, clock)
    share = share_paths(authority)[1].read_bytes()
    first = _collector(authority, clock, limiter)
    with pytest.raises(KeyMaterialError, match="wrong passphrase"):
        first.add(share, "s2", "a wrong guess here")
    clock.advance(2.5)
    with pytest.raises(KeyMaterialError, match="wrong passphrase"):
        first.add(share, "s2", "another wrong guess")
    second = _collector(authority, clock, limiter)  # the guesser starts a new request...
    assert second.wait_seconds() == pytest.approx(4.0)  # ...and still waits, longer each time
    with pytest.raises(TooManyAttempts, match="wait"):
        second.add(share, "s2", "third wrong guess")


def test_concurrent_guesses_get_one_try_per_wait(authority, monkeypatch):
    """Review round 3: the wait was checked before the (slow) passphrase check and set after it, so
    guesses sent at the same moment (the page's thread pool runs 40 at once) were all tried. Only
    one passphrase may be under check at a time; the others are refused without being tried."""
    import threading
    import time

    from facesel.vault.shares import ShareFile

    tried = []
    original = ShareFile.secret

    def slow_secret(self, passphrase):  # Argon2id at the moderate level takes about 1 s: widen the window
        tried.append(passphrase)
        time.sleep(0.3)
        return original(self, passphrase)

    monkeypatch.setattr(ShareFile, "secret", slow_secret)
    collector = _collector(authority, FakeClock())
    share = share_paths(authority)[1].read_bytes()
    start = threading.Barrier(8)
    outcomes = []

    def guess(n):
        start.wait()
        try:
            collector.add(share, "s2", f"concurrent wrong guess {n}")
        except TooManyAttempts:
            outcomes.append("refused untried")
        except KeyMaterialError:
            outcomes.append("tried")

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(tried) == 1 and outcomes.count("tried") == 1 and outcomes.count("refused untried") == 7
    assert collector.failures == 1 and collector.wait_seconds() == 2.0
