"""The deployment's sink: every result sealed into the encrypted vault at once."""

from __future__ import annotations

from facesel.setting_checks import check_flag


class VaultSink:
    """Seals each result into ``vault`` and runs its retention purge on every tick.

    Parameters
    ----------
    vault : facesel.vault.Vault (or any object with ``seal(result)``; ``maybe_purge()`` optional)
    owns : bool
        Close the vault on :meth:`close` (default False: whoever opened it closes it).
    """

    def __init__(self, vault, owns: bool = False):
        if not callable(getattr(vault, "seal", None)):
            raise TypeError(f"vault must have a seal() method, got {type(vault).__name__}")
        self.vault = vault
        self.owns = check_flag(owns, "owns")
        self.sealed = 0

    def write(self, result) -> None:
        """Seal ``result`` into the vault at once (counted in ``sealed``)."""
        self.vault.seal(result)
        self.sealed += 1

    def tick(self, now: float) -> None:
        """Run the vault's retention purge, when it has one (the vault rate-limits it)."""
        # Retention must also run while nobody walks past (no seal() to trigger it); the vault
        # rate-limits this itself, so calling it every frame is cheap.
        maybe_purge = getattr(self.vault, "maybe_purge", None)
        if callable(maybe_purge):
            maybe_purge()

    def close(self) -> None:
        """Close the vault when this sink owns it."""
        if self.owns:
            self.vault.close()
