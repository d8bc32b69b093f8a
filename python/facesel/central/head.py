"""The central log's head, signed by the authority for witnesses: ``facesel central head --share ...``.

The store holds no signing key, so a head it printed itself proves only what the store says.
Signed here, with the authority's key rebuilt from K shares, the head (store id, seq, hash,
time) becomes a checkpoint the table owner cannot forge, and it is also appended to the
authority's own ``audit.log`` as a ``central-head`` entry naming the central entry, which
``facesel central audit --authority DIR`` then checks like every opening
(:func:`facesel.central.anchors.authority_problems`): an owner who cuts or rewrites the log up
to a signed head is found, even by someone who kept no copy of it.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Sequence

from facesel.central.pg_backend import PostgresVault
from facesel.vault.audit import AuditLog
from facesel.vault.keys import AuthorityPublic, Keystore
from facesel.vault.shares import ShareFile, reconstruct_master
from facesel.vault.signing import verify_signature

FORMAT_HEAD = "facesel-central-head"
_BODY = ("format", "store_id", "seq", "hash", "time", "signer")


def _body(head: dict) -> bytes:
    return json.dumps({k: head.get(k) for k in _BODY}, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign_head(store: PostgresVault, share_paths: Sequence[str | os.PathLike], keystore_dir: str | os.PathLike,
              passphrase_for: Callable[[ShareFile], bytes | None] | None = None) -> dict:
    """The store's current head signed by the authority, also logged in the authority's audit.log."""
    keystore = Keystore(keystore_dir)
    if keystore.authority_id != store.authority.authority_id:
        raise ValueError(f"{store.location} belongs to authority {store.authority.authority_id}, keystore "
                         f"{keystore_dir} to authority {keystore.authority_id}")
    master, used = reconstruct_master(share_paths, keystore, passphrase_for)
    signer = keystore.signer(master)
    head = store.head()
    if head["seq"] is None:
        raise ValueError(f"the audit log of {store.location} is empty: nothing to sign")
    head["signer"] = signer.signer_id
    head["sig"] = base64.b64encode(signer.sign(_body(head))).decode()
    AuditLog(keystore.path.parent / "audit.log", signer=signer).append(
        "central-head", central_store=head["store_id"], central_seq=head["seq"], central_entry=head["hash"],
        shares=used)
    return head


def head_signature_ok(head: dict, authority: AuthorityPublic) -> bool:
    """True when ``head`` (from :func:`sign_head`) is signed by ``authority``'s signing key."""
    if head.get("signer") != f"authority:{authority.authority_id}" or not isinstance(head.get("sig"), str):
        return False
    try:
        return verify_signature(authority.signing_key, _body(head), base64.b64decode(head["sig"], validate=True))
    except ValueError:
        return False
