"""The vault's log and the authority's own log, checked against each other (``facesel audit verify
--vault DIR --authority ADIR``).

Every opening is logged twice, signed by the authority: in the vault's log, and in the authority's
own ``audit.log`` (naming the vault's entry by seq and hash). Each copy can show what was done to
the other:

* an opening the authority logged for this vault must be in the vault's log (else the vault was
  opened from a copy, or its log rewritten);
* an opening signed by the authority in the vault's log must be in the authority's log (else the
  authority's log was cut, deleted, or put back to an older copy, which needs no key: review round
  11, attack20 finding 6; before, only the first direction was checked, and an authority's log with
  an opening removed from its end said nothing).

Both logs are verified and read in the same read (before, each was verified, then read again
unverified: a file swapped between the two reads was the one compared).
"""

from __future__ import annotations

from pathlib import Path

from facesel.vault.audit import read_verified
from facesel.vault.errors import AuditError
from facesel.vault.identity import VaultIdentity
from facesel.vault.timeparse import format_time


def _opening(entry: dict) -> str:
    return f"an opening at {format_time(entry['time'])} (reason {entry.get('reason')!r})"


def authority_log_problems(authority_dir: Path, identity: VaultIdentity, vault_log: Path,
                           only_behind: bool = False) -> list[str]:
    """One line per way the vault's log and the authority's log in ``authority_dir`` disagree about
    this vault's openings (empty: they agree); with ``only_behind``, only the ways the authority's
    log is behind the vault's (cut, deleted or put back to an older copy). A vault log that does not
    verify gives no line here: its own check says so."""
    try:
        vault_entries = read_verified(vault_log, identity.audit_keys())
    except (AuditError, FileNotFoundError):
        return []
    signer = f"authority:{identity.authority.authority_id}"
    signed_opens = [e for e in vault_entries if e.get("event") == "open" and e.get("signer") == signer]
    log = Path(authority_dir) / "audit.log"
    if not log.exists() and not log.is_symlink():
        if not signed_opens:
            return []
        return [f"the authority's log {log} does not exist, but this vault's log holds {len(signed_opens)} opening(s) "
                f"signed by the authority (the first: {_opening(signed_opens[0])}): the authority's log was deleted"]
    try:
        entries = read_verified(log, {signer: identity.authority.signing_key})
    except AuditError as err:
        return [f"the authority's log {log} is BROKEN: {err}"]
    in_vault = {(e["seq"], e["hash"]) for e in vault_entries}
    problems = [f"the authority logged {_opening(e)} that this vault's log does not hold: the vault was opened from a "
                "copy, or its log was rewritten"
                for e in entries
                if e.get("event") == "open" and e.get("vault_id") == identity.vault_id
                and (e.get("vault_seq"), e.get("vault_entry")) not in in_vault and not only_behind]
    in_authority = {e.get("vault_entry") for e in entries
                    if e.get("event") == "open" and e.get("vault_id") == identity.vault_id}
    problems += [f"this vault's log holds {_opening(e)} signed by the authority (seq {e['seq']}) that the authority's "
                 "own log does not: the authority's log was cut, or put back to an older copy"
                 for e in signed_opens if e["hash"] not in in_authority]
    return problems
