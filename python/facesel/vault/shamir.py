"""K-of-N secret sharing of the 32-byte authority master key.

We use pycryptodome's vetted Shamir implementation (``Crypto.Protocol.SecretSharing.Shamir``),
which shares 16-byte secrets over GF(2^128). A 32-byte master key is split as two independent
16-byte halves that use the same share indices, so each holder gets one 32-byte share. Any K
shares give back the key; fewer than K give a uniformly random-looking value that carries no
information about it (Shamir's perfect secrecy holds per half, and the halves use independent
random polynomials).

Shamir itself cannot tell a wrong reconstruction from a right one: :func:`combine` always returns
*some* 32 bytes. Callers check the result against the key commitment kept by the authority (see
:mod:`facesel.vault.keys`).
"""

from __future__ import annotations

from Crypto.Protocol.SecretSharing import Shamir

from facesel.core_dumps import forbid_core_dumps

SECRET_BYTES = 32
_HALF = 16
MAX_SHARES = 255


def split(secret: bytes, threshold: int, shares: int) -> list[tuple[int, bytes]]:
    """Split ``secret`` into ``shares`` shares of which any ``threshold`` reconstruct it.

    Parameters
    ----------
    secret : bytes
        Exactly 32 bytes.
    threshold : int
        K, with 1 <= K <= N.
    shares : int
        N, with 1 <= N <= 255.

    Returns
    -------
    list of (int, bytes)
        ``(index, share)`` pairs, index 1..N, each share 32 bytes.
    """
    if not isinstance(secret, (bytes, bytearray)) or len(secret) != SECRET_BYTES:
        raise ValueError(f"secret must be {SECRET_BYTES} bytes, got {type(secret).__name__} of length "
                         f"{len(secret) if hasattr(secret, '__len__') else '?'}")
    if not isinstance(shares, int) or not 1 <= shares <= MAX_SHARES:
        raise ValueError(f"shares must be an integer in [1, {MAX_SHARES}], got {shares!r}")
    if not isinstance(threshold, int) or not 1 <= threshold <= shares:
        raise ValueError(f"threshold must be an integer in [1, shares={shares}], got {threshold!r}")
    forbid_core_dumps()  # the master key is in this process from now on: never in a core file
    low = Shamir.split(threshold, shares, bytes(secret[:_HALF]))
    high = Shamir.split(threshold, shares, bytes(secret[_HALF:]))
    out = []
    for (i_low, s_low), (i_high, s_high) in zip(low, high):
        if i_low != i_high:  # pycryptodome numbers shares 1..N in order; guard the assumption
            raise RuntimeError(f"unexpected share numbering from Shamir.split: {i_low} != {i_high}")
        out.append((i_low, s_low + s_high))
    return out


def combine(shares: list[tuple[int, bytes]]) -> bytes:
    """Interpolate the secret from ``(index, share)`` pairs.

    With at least K distinct correct shares this returns the secret; otherwise it returns an
    unrelated 32-byte value (Shamir cannot detect it: check the result against a commitment).

    Raises
    ------
    ValueError
        When no shares are given, a share is not 32 bytes, or an index repeats.
    """
    if not shares:
        raise ValueError("shares must not be empty")
    seen = set()
    for index, share in shares:
        if not isinstance(index, int) or not 1 <= index <= MAX_SHARES:
            raise ValueError(f"share index must be an integer in [1, {MAX_SHARES}], got {index!r}")
        if index in seen:
            raise ValueError(f"share index {index} given twice")
        seen.add(index)
        if not isinstance(share, (bytes, bytearray)) or len(share) != SECRET_BYTES:
            raise ValueError(f"share {index} must be {SECRET_BYTES} bytes, got length {len(share)}")
    forbid_core_dumps()  # the master key (and the snapshots it opens) must never reach a core file
    low = Shamir.combine([(i, bytes(s[:_HALF])) for i, s in shares])
    high = Shamir.combine([(i, bytes(s[_HALF:])) for i, s in shares])
    return low + high
