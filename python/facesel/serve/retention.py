"""A camera's own retention: shorter than the authority's, never longer.

The authority fixes one retention for every camera it serves (``facesel authority init
--retention``, 30 days by default). An operator may keep a camera's records for less:
``retention_hours = 48`` in its ``[cameras.NAME]`` table (EDPB Guidelines 3/2019 on video
devices: a few days in general; more than 72 hours needs a reason, so a value above 72 needs
``retention_reason = "..."``, which is logged at start). A value longer than the authority's is
refused: the camera cannot promise what the authority does not keep its keys for.

The vault purges with the camera's retention (:class:`CameraRetentionVault`) at least every
quarter of it, so a record is gone within 1.25 times the retention. ``facesel purge`` on the
folder uses the authority's retention: it deletes nothing that the service would keep.
"""

from __future__ import annotations

import logging
import math

EDPB_HOURS = 72.0
"""Above this a camera's retention needs a written reason (``retention_reason``)."""

_log = logging.getLogger("facesel.serve")


def camera_retention(table: dict, where: str, authority_path) -> tuple[float | None, str]:
    """``(seconds or None, reason)`` from a camera's merged table; ValueError naming the key."""
    hours = table.get("retention_hours")
    reason = table.get("retention_reason", "")
    if not isinstance(reason, str):
        raise ValueError(f"{where}.retention_reason must be a string, got {reason!r}")
    if hours is None:
        if reason:
            raise ValueError(f"{where}.retention_reason is given without retention_hours")
        return None, ""
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not math.isfinite(hours) or hours <= 0:
        raise ValueError(f"{where}.retention_hours must be a positive number of hours, got {hours!r}")
    from facesel.vault.keys import AuthorityPublic

    authority = AuthorityPublic.load(authority_path).retention_seconds
    seconds = float(hours) * 3600.0
    if seconds > authority:
        raise ValueError(f"{where}.retention_hours = {hours:g} is longer than the authority's retention "
                         f"({authority / 3600.0:g} hours, {authority_path}): a camera may keep its records "
                         "for less, never for more")
    if hours > EDPB_HOURS and not reason.strip():
        raise ValueError(f"{where}.retention_hours = {hours:g} is more than {EDPB_HOURS:g} hours: give the reason "
                         "in retention_reason (EDPB Guidelines 3/2019: a few days in general, longer needs a reason)")
    return seconds, reason.strip()


def open_camera_vault(config):
    """The camera's vault, purging with its own retention when it has one."""
    from facesel.vault import Vault

    if config.retention_seconds is None:
        return Vault(config.vault, config.authority, camera=config.camera_key, camera_id=config.camera_id)
    vault = CameraRetentionVault(config.vault, config.authority, camera=config.camera_key, camera_id=config.camera_id,
                                 purge_interval=min(60.0, config.retention_seconds / 4.0))
    vault.camera_retention_seconds = config.retention_seconds
    if config.retention_reason:
        _log.info("camera %s: retention %.4g hours (%s)", config.name, config.retention_seconds / 3600.0,
                  config.retention_reason, extra={"camera": config.name})
    return vault


def _vault_class():
    from facesel.vault import Vault

    return Vault


class CameraRetentionVault(_vault_class()):
    """A :class:`facesel.vault.Vault` whose purge uses the camera's shorter retention."""

    camera_retention_seconds: float | None = None

    @property
    def retention_seconds(self) -> float:
        authority = super().retention_seconds
        mine = self.camera_retention_seconds
        return authority if mine is None else min(authority, mine)
