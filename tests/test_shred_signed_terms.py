"""Review round 11 (attack20), finding 1: a shred judged by unsigned keystore files.

``keystore/authority.json`` (its ``retention_seconds``) and each ``epoch-N.key`` (its window) are
plain JSON that whoever can write the authority's folder edits without any key. ``authority
shred``, run later by K honest holders, took both at their word: it destroyed the secrets of
epochs still in retention (every record of theirs, in every vault and backup, unopenable) and
logged an ordinary ``shred``. Now the retention and the windows are the signed ``authority.pub``'s,
and a keystore that disagrees with it is refused before anything is destroyed.
"""

from __future__ import annotations

import json

import pytest
from facesel.vault.errors import KeyMaterialError
from facesel.vault.keys import Keystore
from facesel.vault.retention import shred_expired
from test_vault_common import DAY, T0, make_authority, master_of


def _edit(path, **changes):
    doc = json.loads(path.read_text())
    doc.update(changes)
    path.write_text(json.dumps(doc))


def _live_epochs(adir, now):
    keystore = Keystore(adir / "keystore")
    return keystore, [e for e in keystore.epoch_ids() if keystore.read_epoch(master_of(adir), e)[0].not_after > now]


def test_a_retention_edited_in_the_keystore_shreds_nothing(tmp_path):
    _, adir = make_authority(tmp_path / "auth")  # 30 days' retention, epochs of a day from T0 - 2 days
    now = T0 + DAY
    keystore, before = _live_epochs(adir, now)
    ids = keystore.epoch_ids()
    assert shred_expired(adir, now=now, master=master_of(adir)) == []  # nothing is 30 days old
    _edit(adir / "keystore" / "authority.json", retention_seconds=1.0)
    with pytest.raises(KeyMaterialError, match="retention"):
        shred_expired(adir, now=now, master=master_of(adir))
    with pytest.raises(KeyMaterialError, match="retention"):
        shred_expired(adir, now=now, dry_run=True)
    assert Keystore(adir / "keystore").epoch_ids() == ids and before  # every secret still there


def test_an_epoch_window_set_back_in_its_key_file_is_not_shredded(tmp_path):
    _, adir = make_authority(tmp_path / "auth")
    now = T0 + DAY
    keystore, live = _live_epochs(adir, now)
    target = live[-1]  # an epoch whose window has not even ended
    _edit(keystore.epoch_path(target), not_before=T0 - 400 * DAY, not_after=T0 - 399 * DAY)
    with pytest.raises(KeyMaterialError, match="window"):
        shred_expired(adir, now=now, master=master_of(adir))
    with pytest.raises(KeyMaterialError, match="window"):
        shred_expired(adir, now=now, dry_run=True)
    assert keystore.epoch_path(target).exists()


def test_another_epoch_s_file_copied_over_a_live_one_is_not_shredded(tmp_path):
    _, adir = make_authority(tmp_path / "auth")
    now = T0 + DAY
    keystore, live = _live_epochs(adir, now)
    first, target = keystore.epoch_ids()[0], live[-1]
    keystore.epoch_path(target).write_bytes(keystore.epoch_path(first).read_bytes())
    with pytest.raises(KeyMaterialError):
        shred_expired(adir, now=T0 + 31 * DAY, master=master_of(adir))  # epoch `first` is due then, `target` not
    assert keystore.epoch_path(target).exists() and keystore.epoch_path(first).exists()


def test_a_genuine_keystore_still_shreds_what_is_due(tmp_path):
    _, adir = make_authority(tmp_path / "auth")
    keystore = Keystore(adir / "keystore")
    first = keystore.epoch_ids()[0]
    shredded = shred_expired(adir, now=T0 + 31 * DAY, master=master_of(adir))
    assert first in shredded and not keystore.epoch_path(first).exists()
    assert all(keystore.epoch_path(e).exists() for e in keystore.epoch_ids())


@pytest.mark.parametrize("planted", ["epoch-0{id}.key", "epoch-+{id}.key"])
def test_a_copy_of_an_epoch_file_under_another_spelling_of_its_id_stops_the_shred_first(tmp_path, planted):
    """Review round 15b (attack25): ``epoch_ids`` read ``epoch-0N.key`` as epoch N. A copy of a due
    epoch's file planted so made ``authority shred`` shred epoch N and log it, then fail on the
    second, missing ``epoch-N.key`` before re-keying: the copy stayed, opened by the unchanged shares,
    and every later shred failed the same way."""
    from facesel.vault.audit import AuditLog

    _, adir = make_authority(tmp_path / "auth")
    keystore = Keystore(adir / "keystore")
    first = keystore.epoch_ids()[0]
    copy = keystore.path / planted.format(id=first)
    copy.write_bytes(keystore.epoch_path(first).read_bytes())
    with pytest.raises(KeyMaterialError, match="not as facesel names one"):  # main: FileNotFoundError, after the shred
        shred_expired(adir, now=T0 + 31 * DAY, master=master_of(adir))
    assert keystore.epoch_path(first).exists()  # nothing shredded, nothing logged
    assert "shred" not in [e["event"] for e in AuditLog(adir / "audit.log").entries()]
    copy.unlink()  # the operator moves it away: the shred goes on as it should
    assert first in shred_expired(adir, now=T0 + 31 * DAY, master=master_of(adir))
    assert not keystore.epoch_path(first).exists()
