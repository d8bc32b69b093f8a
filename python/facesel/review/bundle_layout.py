"""Which members an evidence bundle may hold, each at the one path the writer gives it (review round 8c).

The manifest's signature proves only that the authority's key listed a member. Before this check
the verifier accepted any member the manifest listed: a picture at ``records/<another id>/crop.png``
that no camera sealed, a ``README.txt`` with other instructions (another fingerprint to trust), a
name such as ``../outside.txt`` that an unzip tool writes beside the bundle's folder. The report
then said ``VERIFIED`` and "every file is covered by the authority's signed manifest", and a reader
browsing the unpacked folder could not tell the proven pictures from the others. Now every member
is either fixed material (checked elsewhere) or a listed record's own file, named as
:func:`facesel.review.bundle.build_bundle` names it, so everything a reader sees was checked
against a camera's signature or the authority's log.
"""

from __future__ import annotations

import re

from facesel.review.bundle import README
from facesel.vault.signing import CAMERA_ID

_RECORD_ID = re.compile(r"[0-9a-f]{32}")
_PICTURE = re.compile(r"crop|clip/[0-9]{4}")
_COMMON = ("manifest.json", "authority.pub", "README.txt", "audit/authority-open.json")
_BY_SOURCE = {"vault": ("vault.json", "audit/vault-log.jsonl", "audit/vault-head.json"),
              "central": ("audit/central-open.json",)}
README_TEXT = README.format(name="BUNDLE.zip").encode("utf-8")


def record_name(item: dict, version: int) -> str:
    """Where a record's files lie below ``sealed/`` and ``records/``: ``CAMERA/RECORD_ID`` (version
    2), ``RECORD_ID`` (version 1, which named records by id alone). ``item`` is a manifest record
    entry whose ids :func:`layout_problem` checked."""
    return item["record_id"] if version == 1 else f"{item['camera_id']}/{item['record_id']}"


def _record_problem(item, version: int) -> tuple[str | None, set[str]]:
    """What is wrong with one manifest record entry's paths (or None), and the paths it names."""
    if not isinstance(item, dict) or not isinstance(item.get("record_id"), str) \
            or not _RECORD_ID.fullmatch(item["record_id"]):
        return "a manifest record entry has no record id of 32 hex digits", set()
    rid = item["record_id"]
    if version != 1 and not (isinstance(item.get("camera_id"), str) and CAMERA_ID.match(item["camera_id"])):
        return (f"record {rid}: its manifest entry names no camera (a version {version} bundle names each "
                "record's)"), set()
    if not isinstance(item.get("after_revocation", ""), str):
        return f"record {rid}: its after_revocation note is not text", set()
    name_of = record_name(item, version)
    pictures = item.get("pictures")
    if item.get("sealed") != f"sealed/{name_of}.fsr" or item.get("meta") != f"records/{name_of}/meta.json" \
            or not isinstance(pictures, dict):
        return f"record {rid}: its files are not at the bundle's paths for it", set()
    for name, path in pictures.items():
        if not (isinstance(name, str) and _PICTURE.fullmatch(name)
                and path in (f"records/{name_of}/{name}.png", f"records/{name_of}/{name}.jpg")):
            return f"record {rid}: picture {name!r} is not at the bundle's path for it ({path!r})", set()
    return None, {item["sealed"], item["meta"], *pictures.values()}


def layout_problem(members: dict[str, bytes], manifest: dict) -> str | None:
    """Why ``members`` (name -> bytes, the manifest's digests already checked) are not a bundle's
    layout for ``manifest``, or None.

    Refused: a member that is neither fixed material of the manifest's ``source`` nor a file of a
    listed record at its own path; a record listed twice; a ``README.txt`` other than the writer's.
    """
    expected = set(_COMMON) | set(_BY_SOURCE.get(manifest.get("source"), ()))
    records = manifest.get("records")
    if not isinstance(records, list):
        return "manifest.json lists no records"
    version = manifest.get("version")
    seen = set()
    for item in records:
        problem, paths = _record_problem(item, version)
        if problem:
            return problem
        key = record_name(item, version)
        if key in seen:
            if version == 1:  # the old layout cannot hold two cameras' records of one id
                return (f"record {item['record_id']} is listed twice in manifest.json: a version 1 bundle names "
                        "records by id alone, so it cannot tell two cameras' records of one id apart (export them "
                        "again: bundles now name the camera too)")
            return f"record {item['record_id']} of camera {item['camera_id']} is listed twice in manifest.json"
        seen.add(key)
        expected |= paths
    unexplained = sorted(set(members) - expected)
    if unexplained:
        return (f"the bundle holds files that are no listed record's and no part of the bundle's layout "
                f"{[name[:80] for name in unexplained[:5]]}: nothing proves them, so the bundle is refused")
    if members.get("README.txt") != README_TEXT:
        return "README.txt is not the bundle writer's text (its instructions were changed)"
    return None
