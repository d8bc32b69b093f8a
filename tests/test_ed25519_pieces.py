"""The piecewise Ed25519 check (``record_stream.ed25519_verify_pieces``, session 21) against libsodium's
``crypto_sign_verify_detached`` on the whole message (through ``verify_signature``), adversarially.

The edge cases are those catalogued by Chalkias, Garillot and Nikolaenko, "Taming the many EdDSAs"
(SSR 2020): small-order and mixed-order public keys and R, a cofactorless equation that holds or only
the cofactored one, S = 0 and S >= L, non-canonical encodings of A and R (y >= p, and x = 0 with the
sign bit set), the identity, points off the curve. No vector is downloaded: each one is built here
from the curve's equations with a small pure-Python Edwards arithmetic (independent of the code under
test, which uses libsodium's point operations), and each is checked to be the edge case it claims
(its equation holds or fails as intended) before both checks are asked for their verdict.
"""

from __future__ import annotations

import hashlib
import random

import nacl.signing
import pytest
from facesel.review.record_stream import ed25519_verify_pieces
from facesel.vault.signing import verify_signature

P = 2 ** 255 - 19
L = 2 ** 252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, -1, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENTITY = (0, 1)


def add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """Affine addition on -x^2 + y^2 = 1 + d x^2 y^2 (complete: d is not a square mod p)."""
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2 % P
    return ((x1 * y2 + y1 * x2) * pow(1 + t, -1, P) % P, (y1 * y2 + x1 * x2) * pow(1 - t, -1, P) % P)


def neg(a: tuple[int, int]) -> tuple[int, int]:
    return (-a[0] % P, a[1])


def mul(k: int, a: tuple[int, int]) -> tuple[int, int]:
    result = IDENTITY
    while k:
        if k & 1:
            result = add(result, a)
        a, k = add(a, a), k >> 1
    return result


def decode(data: bytes) -> tuple[int, int] | None:
    """The point a 32-byte encoding names, y taken mod p (so non-canonical encodings decode too);
    None when no x satisfies the curve equation (RFC 8032, 5.1.3, without its canonicity checks)."""
    value = int.from_bytes(data, "little")
    y, sign = (value & ((1 << 255) - 1)) % P, value >> 255
    x2 = (y * y - 1) * pow(D * y * y + 1, -1, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    return (P - x if x and (x & 1) != sign else x, y)


def encode(a: tuple[int, int], y_plus: int = 0, sign: int | None = None) -> bytes:
    """``a``'s encoding; ``y_plus = P`` writes y + p (non-canonical), ``sign`` forces the x sign bit."""
    bit = a[0] & 1 if sign is None else sign
    return ((a[1] + y_plus) | (bit << 255)).to_bytes(32, "little")


BASE = decode((4 * pow(5, -1, P) % P).to_bytes(32, "little"))


def _torsion() -> list[tuple[int, int]]:
    """The eight points of order dividing 8, as [i]T for a point T of order 8: [L] of a curve point
    whose torsion part has order 8."""
    for y in range(2, 100):
        point = decode(y.to_bytes(32, "little"))
        if point is not None:
            t = mul(L, point)
            if mul(4, t) != IDENTITY:
                return [mul(i, t) for i in range(8)]
    raise AssertionError("no point of order 8 found")


TORSION = _torsion()


def challenge(r: bytes, a: bytes, message: bytes) -> int:
    return int.from_bytes(hashlib.sha512(r + a + message).digest(), "little") % L


def cofactorless_holds(a: bytes, signature: bytes, message: bytes) -> bool:
    """[S]B = R + [k]A on the decoded points (S taken as it is, mod nothing): the equation alone."""
    pa, pr = decode(a), decode(signature[:32])
    if pa is None or pr is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    return mul(s, BASE) == add(pr, mul(challenge(signature[:32], a, message), pa))


def _search(rng: random.Random, build):
    """Call ``build(message)`` on random messages until it returns a vector (the wanted relation
    between k and the torsion parts holds with probability 1/8 or more per message)."""
    for _ in range(400):
        vector = build(rng.randbytes(rng.choice([0, 1, 5, 40, 200])))
        if vector is not None:
            return vector
    raise AssertionError("no message gave the wanted relation")


def _edge_vectors():
    """(label, public key, signature, message, libsodium's documented verdict)."""
    rng = random.Random(2020)
    out = []

    def scalar() -> int:
        return rng.randrange(1, L)

    # small-order A and R, S = 0: the equation [0]B = R + [k]A holds (R = -[k]A)
    for i in range(8):
        for j in range(8):
            def small_small(m, i=i, j=j):
                a, r = encode(TORSION[i]), encode(TORSION[j])
                return (a, r + bytes(32), m) if neg(mul(challenge(r, a, m), TORSION[i])) == TORSION[j] else None
            reachable = any(neg(mul(k, TORSION[i])) == TORSION[j] for k in range(8))
            if reachable and (i in (1, 2, 4, 7) or (i, j) in ((0, 0), (3, 5))):
                a, sig, m = _search(rng, small_small)
                out.append((f"small A {i}, small R {j}, S = 0", a, sig, m, False))
    # small-order A, mixed-order R (0 < S < L)
    for i in (1, 2, 4):
        r_scalar = scalar()

        def small_mixed(m, i=i, r_scalar=r_scalar):
            a = encode(TORSION[i])
            j = rng.randrange(8)
            r = encode(add(mul(r_scalar, BASE), TORSION[j]))
            ok = neg(mul(challenge(r, a, m), TORSION[i])) == TORSION[j]
            return (a, r + r_scalar.to_bytes(32, "little"), m) if ok and j else None
        out.append((f"small A {i}, mixed R", *_search(rng, small_mixed), False))
    # mixed A, small R; mixed A and R with the cofactorless equation (accepted) or only the cofactored one
    for i in (1, 2, 3, 4, 6):
        a_scalar, r_scalar = scalar(), scalar()
        a = encode(add(mul(a_scalar, BASE), TORSION[i]))

        def mixed_small(m, a=a, i=i, a_scalar=a_scalar):
            j = rng.randrange(8)
            r = encode(TORSION[j])
            k = challenge(r, a, m)
            return (a, r + (k * a_scalar % L).to_bytes(32, "little"), m) \
                if neg(mul(k, TORSION[i])) == TORSION[j] else None

        def mixed_mixed(m, a=a, i=i, a_scalar=a_scalar, r_scalar=r_scalar, holds=True):
            j = rng.randrange(8)
            r = encode(add(mul(r_scalar, BASE), TORSION[j]))
            k = challenge(r, a, m)
            if (neg(mul(k, TORSION[i])) == TORSION[j]) != holds:
                return None
            return a, r + ((r_scalar + k * a_scalar) % L).to_bytes(32, "little"), m
        out.append((f"mixed A {i}, small R", *_search(rng, mixed_small), False))
        out.append((f"mixed A {i}, mixed R, cofactorless holds", *_search(rng, mixed_mixed), True))
        out.append((f"mixed A {i}, mixed R, cofactored only",
                    *_search(rng, lambda m, f=mixed_mixed: f(m, holds=False)), False))
    # prime-order A and R: S >= L (S + nL for every n that fits 32 bytes, and the largest S)
    key = nacl.signing.SigningKey(bytes(range(1, 33)))
    public = bytes(key.verify_key)
    message = b"taming"
    genuine = key.sign(message).signature
    s = int.from_bytes(genuine[32:], "little")
    out.append(("genuine", public, genuine, message, True))
    for n in range(1, 17):
        if s + n * L < 2 ** 256:
            out.append((f"S + {n}L", public, genuine[:32] + (s + n * L).to_bytes(32, "little"), message, False))
    out.append(("S = L", public, genuine[:32] + L.to_bytes(32, "little"), message, False))
    out.append(("S = 2^256 - 1", public, genuine[:32] + b"\xff" * 32, message, False))
    out.append(("S = 0 with a genuine R", public, genuine[:32] + bytes(32), message, False))
    # hash order: S made with H(A || R || M) instead of H(R || A || M)
    secret = int.from_bytes(hashlib.sha512(bytes(range(1, 33))).digest()[:32], "little")
    secret = (secret & ((1 << 254) - 8)) | (1 << 254)  # the seed's clamped scalar (RFC 8032, 5.1.5)
    assert encode(mul(secret, BASE)) == public
    r_scalar = scalar()
    r = encode(mul(r_scalar, BASE))
    swapped = (r_scalar + challenge(public, r, message) * secret) % L
    out.append(("hash A || R || M", public, r + swapped.to_bytes(32, "little"), message, False))
    right = (r_scalar + challenge(r, public, message) * secret) % L
    out.append(("hash R || A || M (made here)", public, r + right.to_bytes(32, "little"), message, True))
    # the identity as A, with a signature whose equation holds for any message
    r_scalar = scalar()
    r = encode(mul(r_scalar, BASE))
    for label, a in (("identity A", encode(IDENTITY)), ("identity A as y = p + 1", encode(IDENTITY, P)),
                     ("identity A with x = -0", encode(IDENTITY, sign=1)),
                     ("identity A as y = p + 1, x = -0", encode(IDENTITY, P, sign=1))):
        out.append((label, a, r + r_scalar.to_bytes(32, "little"), b"m", False))
    out.append(("identity A and R, S = 0", encode(IDENTITY), encode(IDENTITY) + bytes(32), b"m", False))
    # the other small-order encodings of A: y = p (order 4) and (0, -1) with x = -0, equation holding
    for label, point, a in (("A order 4 as y = p", TORSION[2], encode(TORSION[2], P)),
                            ("A order 4 as y = p, other sign", TORSION[6], encode(TORSION[6], P)),
                            ("A order 2 with x = -0", TORSION[4], encode(TORSION[4], sign=1))):
        def small_a(m, point=point, a=a):
            rs = scalar()
            rr = encode(mul(rs, BASE))
            return (a, rr + rs.to_bytes(32, "little"), m) if mul(challenge(rr, a, m), point) == IDENTITY else None
        out.append((label, *_search(rng, small_a), False))
    # non-canonical A of large order (y + p for a small y on the curve): a genuine signature's key is not
    for y in range(2, 19):
        point = decode(y.to_bytes(32, "little"))
        if point is not None:
            for sign in (0, 1):
                out.append((f"A as y = {y} + p, sign {sign}", encode(point, P, sign=sign), genuine, message, False))
    # non-canonical R for which the equation holds: small-order R (y = p, y = p + 1, x = -0) against mixed A
    for label, target, r in (("R identity as y = p + 1", IDENTITY, encode(IDENTITY, P)),
                             ("R identity with x = -0", IDENTITY, encode(IDENTITY, sign=1)),
                             ("R order 4 as y = p", TORSION[2], encode(TORSION[2], P)),
                             ("R order 2 with x = -0", TORSION[4], encode(TORSION[4], sign=1))):
        a_scalar = scalar()

        def noncanonical_r(m, target=target, r=r, a_scalar=a_scalar):
            i = rng.randrange(1, 8)
            a = encode(add(mul(a_scalar, BASE), TORSION[i]))
            k = challenge(r, a, m)
            return (a, r + (k * a_scalar % L).to_bytes(32, "little"), m) if neg(mul(k, TORSION[i])) == target else None
        out.append((label, *_search(rng, noncanonical_r), False))
    # points off the curve, as A and as R
    off = next(y for y in range(2, 100) if decode(y.to_bytes(32, "little")) is None).to_bytes(32, "little")
    out.append(("A off the curve", off, genuine, message, False))
    out.append(("R off the curve", public, off + genuine[32:], message, False))
    return out


EDGE_VECTORS = _edge_vectors()
# the vectors that must satisfy the cofactorless equation (their refusal comes from a rule, not the equation)
EQUATION_HOLDS = ("small A", "mixed A", "identity A", "A order", "R identity", "R order", "genuine", "hash R")


def _random_pieces(rng: random.Random, message: bytes) -> list[bytes]:
    """``message`` cut at random places, with empty pieces among them."""
    cuts = sorted(rng.randrange(len(message) + 1) for _ in range(rng.randrange(6)))
    pieces, start = [], 0
    for cut in cuts + [len(message)]:
        pieces.append(message[start:cut])
        start = cut
        if rng.random() < 0.3:
            pieces.append(b"")
    return pieces


def _splits(rng: random.Random, message: bytes) -> list[list[bytes]]:
    return [[message], [message[i:i + 1] for i in range(len(message))], _random_pieces(rng, message),
            _random_pieces(rng, message), [b"", message, b""]]


@pytest.mark.parametrize("vector", EDGE_VECTORS, ids=[v[0] for v in EDGE_VECTORS])
def test_each_edge_vector_gets_libsodiums_verdict_in_any_pieces(vector):
    label, public, signature, message, documented = vector
    if label.startswith(EQUATION_HOLDS) and "cofactored only" not in label:
        assert cofactorless_holds(public, signature, message), label  # the vector is the edge it claims
    if "cofactored only" in label:
        s = int.from_bytes(signature[32:], "little")
        k = challenge(signature[:32], public, message)
        assert mul(8, mul(s, BASE)) == mul(8, add(decode(signature[:32]), mul(k, decode(public))))
        assert not cofactorless_holds(public, signature, message)
    whole = verify_signature(public, message, signature)
    assert whole == documented, label  # libsodium's rules as documented in the paper's table
    rng = random.Random(label)
    for pieces in _splits(rng, message):
        assert ed25519_verify_pieces(public, signature, iter(pieces)) == whole, (label, [len(p) for p in pieces])


def test_random_messages_in_random_pieces_and_other_keys_get_libsodiums_verdict():
    rng = random.Random(7)
    keys = [nacl.signing.SigningKey(rng.randbytes(32)) for _ in range(4)]
    verdicts = []
    for n in range(120):
        message = rng.randbytes(rng.choice([0, 1, 2, 31, 64, 129, 1000, 5000]))
        signer = rng.choice(keys)
        verifier = signer if rng.random() < 0.5 else rng.choice(keys)  # another key about 3 times in 8
        signature = signer.sign(message).signature
        if n % 3 == 1:  # one flipped bit, in the message or the signature
            if message and rng.random() < 0.5:
                at = rng.randrange(len(message))
                message = message[:at] + bytes([message[at] ^ (1 << rng.randrange(8))]) + message[at + 1:]
            else:
                at = rng.randrange(64)
                signature = signature[:at] + bytes([signature[at] ^ (1 << rng.randrange(8))]) + signature[at + 1:]
        public = bytes(verifier.verify_key)
        whole = verify_signature(public, message, signature)
        for pieces in _splits(rng, message)[2:] + ([[message[i:i + 1] for i in range(len(message))]]
                                                  if len(message) <= 1000 else []):
            assert ed25519_verify_pieces(public, signature, iter(pieces)) == whole, n
        verdicts.append(whole)
    assert 20 <= verdicts.count(True) <= 100  # both answers were asked for


class _EndCheckFailed(Exception):
    pass


def _pieces_then_fail(message: bytes, seen: list):
    """The reading's pieces, then the failure its end check raises (the SHA-256 of a member read again)."""
    for i in range(0, len(message), 3):
        seen.append(i)
        yield message[i:i + 3]
    raise _EndCheckFailed


@pytest.mark.parametrize("label", ["genuine", "S + 1L", "A off the curve", "small A 1, small R 0, S = 0",
                                   "mixed A 1, mixed R, cofactorless holds"])
def test_no_verdict_comes_before_the_readings_end_check(label):
    """Every early refusal (S too large, a bad key, a short signature) still reads to the end, so a
    member that changed between readings raises instead of giving a verdict."""
    _, public, signature, message, _ = next(v for v in EDGE_VECTORS if v[0].startswith(label))
    for key, sig in ((public, signature), (public[:31], signature), (public, signature[:63])):
        seen: list = []
        with pytest.raises(_EndCheckFailed):
            ed25519_verify_pieces(key, sig, _pieces_then_fail(message, seen))
        assert len(seen) == (len(message) + 2) // 3
