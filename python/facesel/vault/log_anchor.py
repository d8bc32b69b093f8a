"""The camera's own memory of its vault log, kept beside its key: a rolled-back log is caught.

The vault's log is hash-chained and signed, and ``audit.log.head`` is its signed last entry, so
an edit, a cut tail or a deleted log is found. But a *whole older copy* of the log and its head
is just as consistent: whoever can write the vault folder (without any key) and kept a copy of
the two files could put them back, delete the records sealed since, and the camera restarted
without a word: the fresh records and their ``seal`` entries, and the ``open`` entries of later
openings, were gone without trace and ``audit verify`` said OK (review 7, finding 3). Only a
witnessed head (``facesel audit head``, checked with ``--expect``) caught it.

So the camera remembers the last entry it saw in its log (``seq`` and ``hash``) in a place the
vault folder does not hold: ``log-anchors/VAULT_ID.json`` in the folder of its ``camera.key``,
written after every entry the camera appends and whenever it reads entries others appended. At
start the log must still hold that entry, byte for byte (same hash at the same seq); otherwise
the camera refuses to start, as it does for a shortened log. Restoring a vault from a backup on
purpose means deleting that anchor file by hand.

The anchor is found by the vault's id, which ``vault.json`` names; that file is signed by the
camera but tied to no folder, so the ``vault.json`` of *another* vault of the same key (a test
vault made with a copy of the key, an earlier vault) put in place with an older log made the
camera look for an anchor it never kept, and start (review 8, finding 3). So the camera also
remembers which vault id each of its vault folders holds (``vault-folders/HASH.json`` beside the
key, HASH from the folder's resolved path) and refuses a folder whose ``vault.json`` names
another. A vault made new in a folder (nothing left of the old one) is bound to it, with a
warning naming the vault that was there; a vault moved to another folder is bound there at its
next start.

The anchor is written without an fsync (a seal already pays for the log's): after a power cut
it may lag behind the log, which is safe (the log holds every entry the anchor can name, since
each is durable before it is anchored); an anchor that a crash left empty or torn is replaced
with a warning. A camera key folder the camera may not write (a key installed read-only) leaves
the camera without the check, with one warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
from pathlib import Path

from facesel.vault.errors import AuditError
from facesel.vault.fsutil import TMP_SUFFIX

_log = logging.getLogger("facesel.vault")

FORMAT_ANCHOR = "facesel-log-anchor"
FORMAT_FOLDER = "facesel-vault-folder"
_VAULT_ID = re.compile(r"\A[0-9a-zA-Z_-]{1,128}\Z")
_HEX64 = re.compile(r"\A[0-9a-f]{64}\Z")


class LogAnchor:
    """The anchor of one vault's log, kept beside the camera key at ``key_path`` (None: none)."""

    def __init__(self, key_path: Path | None, vault_id: str, vault_dir: Path | None = None) -> None:
        usable = key_path is not None and isinstance(vault_id, str) and _VAULT_ID.match(vault_id)
        self.path = Path(key_path).parent / "log-anchors" / f"{vault_id}.json" if usable else None
        self.vault_id = vault_id
        self.vault_dir = None if vault_dir is None else Path(vault_dir).resolve()
        self.folder_path = None
        if self.path is not None and self.vault_dir is not None:
            name = hashlib.sha256(os.fsencode(str(self.vault_dir))).hexdigest()[:32]
            self.folder_path = self.path.parent.parent / "vault-folders" / f"{name}.json"
        self._seq: int | None = None  # the entry anchored by this process (seq, hash)
        self._hash: str | None = None
        self._warned = False
        self._rolled_back = False

    def check_folder(self, created: bool) -> None:
        """Refuse a vault folder whose ``vault.json`` names another vault than the one this camera
        kept in it (AuditError); bind the folder to this vault when it was not bound, or when the
        vault was ``created`` just now (with a warning naming the vault that was there)."""
        if self.folder_path is None:
            return
        bound = self._read_folder()
        if bound == self.vault_id:
            return
        if bound is not None and not created:
            raise AuditError(f"vault.json names vault {self.vault_id}, but this camera's vault at {self.vault_dir} is "
                             f"vault {bound} (kept in {self.folder_path}): vault.json was replaced by another vault's, "
                             "which hides a log put back to an older copy; preserve the vault and investigate "
                             "(after replacing the vault on purpose, delete that file)")
        if bound is not None:
            _log.warning("a new vault %s was made at %s, which was vault %s: that vault's records and log are gone",
                         self.vault_id, self.vault_dir, bound)
        body = json.dumps({"format": FORMAT_FOLDER, "folder": str(self.vault_dir), "vault_id": self.vault_id},
                          sort_keys=True).encode("utf-8")
        self._write(self.folder_path, body)

    def _read_folder(self) -> str | None:
        """The vault id this camera kept for its folder, or None (none kept, or a torn file: warned)."""
        try:
            with open(self.folder_path, "rb",
                      opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW | os.O_NONBLOCK)) as handle:
                doc = json.loads(handle.read(4096).decode("utf-8"))
            if doc.get("format") != FORMAT_FOLDER or not _VAULT_ID.match(str(doc.get("vault_id"))):
                raise ValueError("not a vault folder's binding")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, AttributeError, UnicodeDecodeError) as err:
            _log.warning("the record of which vault %s holds, %s, is unreadable (%s); it is replaced", self.vault_dir,
                         self.folder_path, err)
            return None
        return str(doc["vault_id"])

    def check(self, entries: list[dict]) -> None:
        """Refuse a log that no longer holds the entry last anchored (AuditError)."""
        anchored = self._read()
        if anchored is None:
            return
        seq, digest = anchored
        if seq >= len(entries):
            last = entries[-1]["seq"] if entries else None
            raise AuditError(f"the vault's audit log ends at seq {last}, but this camera saw seq {seq} in it (anchor "
                             f"{self.path}): the log and its head were put back to an older copy and later entries "
                             "removed; preserve the vault and investigate (after restoring a backup on purpose, "
                             "delete the anchor)")
        if entries[seq].get("hash") != digest:
            raise AuditError(f"the vault's audit log holds another entry at seq {seq} than the one this camera saw "
                             f"there (anchor {self.path}): the log was replaced by an older copy and continued; "
                             "preserve the vault and investigate (after restoring a backup on purpose, delete "
                             "the anchor)")

    def remember(self, entry: dict) -> None:
        """Anchor ``entry`` (a verified entry of the log) unless a later one is anchored already."""
        if self.path is None:
            return
        seq = entry.get("seq")
        if not isinstance(seq, int):
            return
        if self._seq is not None and seq <= self._seq:
            if seq == self._seq and entry.get("hash") == self._hash:
                return  # the same entry seen again
            # An entry at or before the anchored seq: the log went back under the running camera.
            # The entry is written already; the anchor keeps the later one, so the next start is
            # refused, and this says so now (a seal must not fail: keeping beats deleting).
            if not self._rolled_back:
                self._rolled_back = True
                _log.error("the vault's audit log was put back under the running camera: an entry was appended "
                           "at seq %d, but this camera saw seq %d already (anchor %s); preserve the vault and "
                           "investigate: the camera will refuse to start on this log", seq, self._seq, self.path)
            return
        body = json.dumps({"format": FORMAT_ANCHOR, "vault_id": self.vault_id, "seq": seq,
                           "hash": entry.get("hash")}, sort_keys=True).encode("utf-8")
        if self._write(self.path, body):
            self._seq, self._hash = seq, entry.get("hash")

    def _write(self, path: Path, body: bytes) -> bool:
        """Replace ``path`` (beside the key, owner-only) with ``body``; False, warned once, when the
        key's folder cannot be written."""
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{TMP_SUFFIX}")
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                os.write(fd, body)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except OSError as err:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
            if not self._warned:
                self._warned = True
                _log.warning("cannot keep the anchor of the vault's audit log in %s (%s): a log put back to an older "
                             "copy would not be noticed at the next start", path, err.strerror or err)
            return False
        return True

    def _read(self) -> tuple[int, str] | None:
        """(seq, hash) anchored, or None when there is none (or only a torn one, with a warning)."""
        if self.path is None:
            return None
        try:
            with open(self.path, "rb", opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW | os.O_NONBLOCK)) as handle:
                doc = json.loads(handle.read(4096).decode("utf-8"))
            seq, digest = doc["seq"], doc["hash"]
            if doc.get("format") != FORMAT_ANCHOR or doc.get("vault_id") != self.vault_id or \
                    not isinstance(seq, int) or isinstance(seq, bool) or seq < 0 or not _HEX64.match(str(digest)):
                raise ValueError("not an anchor of this vault")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as err:
            _log.warning("the anchor of the vault's audit log %s is unreadable (%s); it is replaced", self.path, err)
            return None
        return seq, digest
