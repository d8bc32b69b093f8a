"""``facesel central open`` and ``central head`` take the holders' passphrase files as ``facesel
open`` does (ux15): one ``--passphrase-file`` per ``--share``, in order, as README's HOLDERS line
gives them. Before, a second ``--passphrase-file`` replaced the first, so the first holder's share
was tried with the second holder's passphrase: "wrong passphrase, or the share file is corrupt"."""

from __future__ import annotations

import json
import os

from central_common import facesel
from facesel.vault import Vault
from test_vault_common import camera_dir, make_authority, orl_faces, share_paths, track_result

PHRASES = [b"first holder words 1", b"second holder words 2", b"third holder words 3"]


def test_one_passphrase_file_per_holder_opens_and_signs(central_dsn, tmp_path, shared_data):
    import time

    _, folder = make_authority(tmp_path / "authority", start=time.time() - 86400, passphrases=PHRASES)
    key_dir = camera_dir(folder)  # make_authority's camera, enrolled with the protected shares
    with Vault(tmp_path / "vault", folder / "authority.pub", camera=key_dir) as vault:
        vault.seal(track_result(orl_faces(shared_data, 1)[0]))
    for args in (["central", "init", "--authority", str(folder / "authority.pub")],
                 ["central", "register-camera", str(key_dir)],
                 ["sync", "--vault", str(tmp_path / "vault"), "--camera", str(key_dir)]):
        done = facesel(*args, "--central", central_dsn)
        assert done.returncode == 0, done.stderr
    holders = []
    for index in (1, 3):  # the first and third holders, each with their own file
        phrase = tmp_path / f"holder-{index}.txt"
        phrase.write_bytes(PHRASES[index - 1] + b"\n")
        os.chmod(phrase, 0o600)
        holders += ["--share", str(share_paths(folder)[index - 1]), "--passphrase-file", str(phrase)]
    done = facesel("central", "open", "--central", central_dsn, "--all", *holders, "--reason", "case 15/3",
                   "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "opened 1 record(s)" in done.stdout
    head = facesel("central", "head", "--central", central_dsn, *holders)
    assert head.returncode == 0, head.stderr
    from facesel.central.head import head_signature_ok
    from facesel.vault.keys import AuthorityPublic

    assert head_signature_ok(json.loads(head.stdout.strip().splitlines()[-1]), AuthorityPublic.load(folder / "authority.pub"))
