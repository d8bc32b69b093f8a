"""Key hierarchy: K-of-N sharing (every subset for N <= 7), share files, passphrases, epoch keys."""

from __future__ import annotations

import itertools
import json
import secrets

import pytest
from facesel.vault import shamir
from facesel.vault.authority import extend_authority
from facesel.vault.errors import EpochUnavailableError, KeyMaterialError
from facesel.vault.keys import AuthorityPublic, Keystore, master_commitment
from facesel.vault.shares import ShareFile, reconstruct_master
from test_vault_common import DAY, T0, make_authority, share_paths


def test_every_k_subset_reconstructs_and_every_k_minus_1_subset_fails():
    """For N = 1..7 and every K: all C(N, K) subsets give the key; all C(N, K-1) subsets do not."""
    tried_good = tried_bad = 0
    for n in range(1, 8):
        for k in range(1, n + 1):
            secret = secrets.token_bytes(32)
            shares = shamir.split(secret, k, n)
            assert sorted(i for i, _ in shares) == list(range(1, n + 1))
            for subset in itertools.combinations(shares, k):
                assert shamir.combine(list(subset)) == secret
                tried_good += 1
            if k >= 2:
                for subset in itertools.combinations(shares, k - 1):
                    assert shamir.combine(list(subset)) != secret
                    tried_bad += 1
    # Per N: all 2^N - 1 non-empty subsets were tried as K-sets, and 2^N - 2 as (K-1)-sets.
    assert tried_good == sum(2 ** n - 1 for n in range(1, 8)) == 247
    assert tried_bad == sum(2 ** n - 2 for n in range(1, 8)) == 240


def test_too_few_shares_fail_through_the_key_commitment(tmp_path):
    """Through the file layer: K-1 shares are refused up front, and even if combined they do not
    pass the master-key commitment."""
    _, adir = make_authority(tmp_path / "auth", shares=5, threshold=3)
    keystore = Keystore(adir / "keystore")
    paths = share_paths(adir)
    for subset in itertools.combinations(paths, 3):
        master, used = reconstruct_master(list(subset), keystore)
        assert len(used) == 3
        assert master_commitment(master, keystore.authority_id) == keystore.meta["master_check"]
    for subset in itertools.combinations(paths, 2):
        with pytest.raises(KeyMaterialError, match="but 3 are needed"):
            reconstruct_master(list(subset), keystore)
        pairs = [(ShareFile.load(p).index, ShareFile.load(p).secret()) for p in subset]
        with pytest.raises(KeyMaterialError, match="do not reconstruct"):
            keystore.check_master(shamir.combine(pairs))


def test_wrong_share_and_duplicate_share_are_named(tmp_path):
    _, a = make_authority(tmp_path / "a", shares=3, threshold=2)
    _, b = make_authority(tmp_path / "b", shares=3, threshold=2)
    ks = Keystore(a / "keystore")
    with pytest.raises(KeyMaterialError, match="another|authority"):
        reconstruct_master([share_paths(a)[0], share_paths(b)[1]], ks)
    with pytest.raises(KeyMaterialError, match="given twice"):
        reconstruct_master([share_paths(a)[0], share_paths(a)[0]], ks)
    # A share whose bytes were swapped for another valid-looking share of the same index.
    doc = json.loads(share_paths(a)[1].read_text())
    forged = tmp_path / "forged.json"
    other = json.loads(share_paths(b)[1].read_text())
    doc.update(share=other["share"], check=other["check"])
    forged.write_text(json.dumps(doc))
    with pytest.raises(KeyMaterialError, match="do not reconstruct"):
        reconstruct_master([share_paths(a)[0], forged], ks)
    # A corrupted unprotected share is caught by its checksum and named.
    doc = json.loads(share_paths(a)[2].read_text())
    doc["share"] = doc["share"][:-4] + ("AAA=" if doc["share"][-4:] != "AAA=" else "BBB=")
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(doc))
    with pytest.raises(KeyMaterialError, match="broken.json.*corrupt"):
        reconstruct_master([share_paths(a)[0], broken], ks)


def test_passphrase_protected_shares(tmp_path):
    words = [b"alpha one orbit", b"bravo two kites", b"charlie three maps"]
    _, adir = make_authority(tmp_path / "auth", shares=3, threshold=2, passphrases=words)
    ks = Keystore(adir / "keystore")
    paths = share_paths(adir)
    doc = json.loads(paths[0].read_text())
    assert doc["protected"] and "share" not in doc and doc["kdf"]["name"] == "argon2id"
    by_index = {i + 1: w for i, w in enumerate(words)}
    master, _ = reconstruct_master(paths[:2], ks, lambda f: by_index[f.index])
    assert master_commitment(master, ks.authority_id) == ks.meta["master_check"]
    with pytest.raises(KeyMaterialError, match="wrong passphrase"):
        reconstruct_master(paths[:2], ks, lambda f: b"guess")
    with pytest.raises(KeyMaterialError, match="passphrase-protected"):
        reconstruct_master(paths[:2], ks, None)


def test_epoch_keys_are_wrapped_bound_and_shreddable_one_by_one(tmp_path):
    pub, adir = make_authority(tmp_path / "auth")
    ks = Keystore(adir / "keystore")
    master, _ = reconstruct_master(share_paths(adir)[:2], ks)
    ids = ks.epoch_ids()
    assert ids == [e.epoch_id for e in pub.epochs]
    # The keystore holds no raw secret: the file's bytes never contain the unwrapped key.
    secret = ks.unwrap(master, ids[0])
    assert secret not in ks.epoch_path(ids[0]).read_bytes()
    # Swapping two wrapped files is detected (epoch id is bound as associated data).
    a, b = ks.epoch_path(ids[0]), ks.epoch_path(ids[1])
    doc_a, doc_b = json.loads(a.read_text()), json.loads(b.read_text())
    doc_a["nonce"], doc_a["wrapped"] = doc_b["nonce"], doc_b["wrapped"]
    a.write_text(json.dumps(doc_a))
    with pytest.raises(KeyMaterialError, match="does not open"):
        ks.unwrap(master, ids[0])
    # Shredding one epoch leaves the others readable.
    ks.shred(ids[2])
    with pytest.raises(EpochUnavailableError, match="shredded"):
        ks.unwrap(master, ids[2])
    assert len(ks.unwrap(master, ids[3])) == 32


def test_authority_public_holds_no_secret_and_covers_its_horizon(tmp_path):
    pub, adir = make_authority(tmp_path / "auth", start=T0, horizon=10 * DAY)
    text = (adir / "authority.pub").read_text()
    assert "wrapped" not in text and "share" not in json.loads(text) and "master" not in text
    loaded = AuthorityPublic.load(adir / "authority.pub")
    assert loaded == pub
    assert loaded.epoch_for(T0).covers(T0) and loaded.epoch_for(T0 + 10 * DAY).covers(T0 + 10 * DAY)
    with pytest.raises(EpochUnavailableError, match="no epoch key covering"):
        loaded.epoch_for(T0 + 12 * DAY)
    with pytest.raises(EpochUnavailableError):
        loaded.epoch_for(T0 - DAY)
    master, _ = reconstruct_master(share_paths(adir)[:2], Keystore(adir / "keystore"))
    longer = extend_authority(adir, master, T0 + 20 * DAY)
    assert longer.epochs[: len(pub.epochs)] == pub.epochs
    assert longer.epoch_for(T0 + 19 * DAY).epoch_id == pub.epochs[-1].epoch_id + 9


@pytest.mark.parametrize("bad", [dict(shares=0, threshold=1), dict(shares=3, threshold=4),
                                 dict(shares=3, threshold=0), dict(shares=256, threshold=2)])
def test_invalid_share_parameters_are_rejected(tmp_path, bad):
    with pytest.raises(ValueError, match="shares|threshold"):
        make_authority(tmp_path / "auth", **bad)
    assert not (tmp_path / "auth" / "keystore").exists()


def test_init_never_overwrites_key_material(tmp_path):
    make_authority(tmp_path / "auth")
    before = (tmp_path / "auth" / "authority.pub").read_bytes()
    with pytest.raises(ValueError, match="refusing to overwrite"):
        make_authority(tmp_path / "auth")
    assert (tmp_path / "auth" / "authority.pub").read_bytes() == before


@pytest.mark.parametrize("mistake", ["no passphrase", "wrong passphrase", "one share"])
def test_enrol_camera_with_bad_shares_leaves_no_camera_folder(tmp_path, mistake):
    # Before: the camera key was written first, so after the share error the corrected call was
    # refused ("... already holds a camera key; refusing to overwrite it").
    from facesel.vault import enrol_camera

    words = [b"alpha one orbit", b"bravo two kites", b"charlie three maps"]
    _, adir = make_authority(tmp_path / "auth", shares=3, threshold=2, passphrases=words)
    paths, right = share_paths(adir), (lambda f: words[f.index - 1])
    given = {"no passphrase": (paths[:2], None), "wrong passphrase": (paths[:2], lambda f: b"guess"),
             "one share": (paths[:1], right)}[mistake]
    with pytest.raises(KeyMaterialError):
        enrol_camera(adir, tmp_path / "gate", "gate-9", *given)
    assert not (tmp_path / "gate").exists()
    camera = enrol_camera(adir, tmp_path / "gate", "gate-9", paths[:2], right)  # the corrected call
    assert camera.camera_id == "gate-9" and "gate-9" in dict(AuthorityPublic.load(adir / "authority.pub").cameras)
