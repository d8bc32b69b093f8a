"""The vault's error types: each says what went wrong in one line, for the CLI to print.

They subclass ValueError or RuntimeError so that ``facesel``'s ``main()`` turns them into one
clear line and exit status 1.
"""

from __future__ import annotations


class RecordError(ValueError):
    """A record is malformed, corrupt, tampered with, or of an unsupported version."""


class KeyMaterialError(ValueError):
    """Shares, passphrases or key files are wrong, too few, corrupt or from another authority."""


class EpochUnavailableError(RuntimeError):
    """No epoch key covers a time, or an epoch's secret has been shredded."""


class VaultWriteError(RuntimeError):
    """Writing to the vault failed (e.g. the disk is full); nothing was left behind."""


class VaultLockedError(RuntimeError):
    """Another process holds the vault for writing."""


class AuditError(ValueError):
    """The audit log is broken: an entry was edited, deleted, reordered or inserted."""


class IndexDamagedError(RuntimeError):
    """The index file is damaged, locked or unreadable (it can be rebuilt from the records)."""
