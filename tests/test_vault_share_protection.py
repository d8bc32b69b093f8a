"""Review 2, finding 7: weak share protection was one option away. ``authority init --kdf-level min
--passphrase-env VAR`` was accepted silently (Argon2id at 8 KiB and 1 pass, one passphrase for
every holder), "Password1234" passed the strength rule, and all shares sat in one folder. Now the
test-only level needs --insecure-kdf-for-tests, one passphrase for several shares needs
--one-passphrase-for-all, common passwords and patterns are refused (zxcvbn's shipped word lists),
and the operator is told to move the shares apart, or writes them apart with --share-out."""

from __future__ import annotations

import pytest
from facesel.vault.authority import create_authority
from facesel.vault.shares import ShareFile, check_passphrase, generate_passphrase
from test_vault_common import DAY, T0, run_cli


def _init(capsys, out, *extra):
    return run_cli(capsys, "authority", "init", "--out", out, "--shares", 3, "--threshold", 2, "--start", T0,
                   "--horizon", "2d", *extra)


def _three(tmp_path, lines=("one quiet harbour", "two silver kites", "three paper maps")):
    words = tmp_path / "words.txt"
    words.write_text("\n".join(lines) + "\n")
    words.chmod(0o600)  # a passphrase file only its owner may read (others' are refused)
    return words


def test_the_test_only_kdf_level_needs_an_explicit_insecure_flag(tmp_path, capsys, monkeypatch):
    words = _three(tmp_path)
    code, _, err = _init(capsys, tmp_path / "a", "--kdf-level", "min", "--passphrase-file", words)
    assert code == 1 and "for tests only (--insecure-kdf-for-tests)" in err and not (tmp_path / "a").exists()
    monkeypatch.setenv("FACESEL_KDF_LEVEL", "min")  # the environment is no way around it either
    code, _, err = _init(capsys, tmp_path / "a", "--passphrase-file", words)
    assert code == 1 and "for tests only" in err and not (tmp_path / "a").exists()
    with pytest.raises(ValueError, match="for tests only"):
        create_authority(tmp_path / "b", 3, 2, DAY, 30 * DAY, 2 * DAY, T0, [w.encode() for w in words.read_text()
                                                                            .split("\n")[:3]], kdf_level="min")
    assert not (tmp_path / "b").exists()
    code, _, err = _init(capsys, tmp_path / "a", "--passphrase-file", words, "--insecure-kdf-for-tests")
    assert code == 0, err
    assert ShareFile.load(tmp_path / "a" / "shares" / "share-1-of-3.json").doc["kdf"]["memlimit"] == 8192


def test_one_passphrase_for_several_holders_needs_a_flag(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FACESEL_KDF_LEVEL", "min")
    monkeypatch.setenv("ONE_PW", "copper lantern ostrich")
    code, _, err = _init(capsys, tmp_path / "a", "--passphrase-env", "ONE_PW", "--insecure-kdf-for-tests")
    assert code == 1 and "gives all 3 shares the same passphrase" in err and "--one-passphrase-for-all" in err
    same = _three(tmp_path, ("one quiet harbour", "two silver kites", "one quiet harbour"))
    code, _, err = _init(capsys, tmp_path / "a", "--passphrase-file", same, "--insecure-kdf-for-tests")
    assert code == 1 and "same passphrase" in err and not (tmp_path / "a").exists()
    code, _, err = _init(capsys, tmp_path / "a", "--passphrase-env", "ONE_PW", "--insecure-kdf-for-tests",
                         "--one-passphrase-for-all")
    assert code == 0, err


@pytest.mark.parametrize("weak", ["Password1234", "qwertyuiop123", "iloveyou12345", "P@ssw0rd2024!",
                                  "Welcome12345!", "abcdefgh12345", "dragon1234567", "Summer2024!!"])
def test_common_passwords_and_patterns_are_refused(tmp_path, capsys, weak):
    with pytest.raises(ValueError, match="too easy to guess"):
        check_passphrase(weak.encode())
    words = _three(tmp_path, ("one quiet harbour", weak, "three paper maps"))
    code, _, err = _init(capsys, tmp_path / "a", "--passphrase-file", words, "--insecure-kdf-for-tests")
    assert code == 1 and "passphrase of share 2 is too easy to guess" in err and not (tmp_path / "a").exists()


def test_generated_passphrases_always_pass():
    for _ in range(200):
        check_passphrase(generate_passphrase().encode())


def test_shares_are_written_apart_or_the_operator_is_told_to_move_them(tmp_path, capsys):
    code, _, err = _init(capsys, tmp_path / "a", "--no-passphrase")
    assert code == 0 and "WARNING all 3 shares lie together in" in err and "--share-out" in err
    drives = [tmp_path / f"drive-{i}" for i in (1, 2, 3)]
    for d in drives:
        d.mkdir()
    code, out, err = _init(capsys, tmp_path / "b", "--no-passphrase", *[a for d in drives for a in ("--share-out", d)])
    assert code == 0 and "WARNING" not in err, err
    assert not (tmp_path / "b" / "shares").exists()
    assert [sorted(p.name for p in d.iterdir()) for d in drives] == [[f"share-{i}-of-3.json"] for i in (1, 2, 3)]
    for bad, message in (([drives[0], drives[0], drives[1]], "the same folder"),
                         ([drives[0], drives[1]], "one destination per share"),
                         ([tmp_path / "c" / "x", drives[1], drives[2]], "not an existing folder")):
        code, _, err = _init(capsys, tmp_path / "c", "--no-passphrase", *[a for d in bad for a in ("--share-out", d)])
        assert code == 1 and message in err, err
