"""`authority init --passphrase`: a weak or repeated passphrase is refused as soon as its holder
types it, and that holder is asked again, before anyone else types theirs (issue 26, item 7)."""

from __future__ import annotations

import getpass
from facesel.cli import main

STRONG = ["quiet harbour violet anchor", "maple stone river kettle", "orbit lantern pebble sorrow"]


def _init(tmp_path, answers, monkeypatch, capsys, *extra):
    prompts: list[str] = []

    def fake_getpass(prompt=""):
        prompts.append(prompt)
        return answers.pop(0)

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    code = main(["authority", "init", "--out", str(tmp_path / "auth"), "--shares", "3", "--threshold", "2",
                 "--kdf-level", "min", "--insecure-kdf-for-tests", "--passphrase", *extra])
    return code, prompts, capsys.readouterr().err


def test_a_weak_passphrase_is_refused_at_once_and_asked_again(tmp_path, monkeypatch, capsys):
    answers = ["Password1234", STRONG[0], STRONG[0], STRONG[1], STRONG[1], STRONG[2], STRONG[2]]
    code, prompts, err = _init(tmp_path, answers, monkeypatch, capsys)
    assert code == 0 and answers == []
    # holder 1 was asked twice before confirming; holder 2 only after holder 1 was done
    assert prompts[:3] == ["passphrase for share 1 of 3: "] * 2 + ["repeat passphrase for share 1: "]
    assert prompts[3] == "passphrase for share 2 of 3: "
    assert "too easy to guess" in err and "try again" in err


def test_a_passphrase_an_earlier_holder_chose_is_refused_at_once(tmp_path, monkeypatch, capsys):
    answers = [STRONG[0], STRONG[0], STRONG[0], STRONG[1], STRONG[1], STRONG[2], STRONG[2]]
    code, prompts, err = _init(tmp_path, answers, monkeypatch, capsys)
    assert code == 0 and answers == []
    assert prompts[2:5] == ["passphrase for share 2 of 3: "] * 2 + ["repeat passphrase for share 2: "]
    assert "earlier holder" in err


def test_three_weak_tries_end_the_command_before_the_next_holder(tmp_path, monkeypatch, capsys):
    answers = ["Password1234", "letmein12345", "qwerty123456", STRONG[1]]
    code, prompts, err = _init(tmp_path, answers, monkeypatch, capsys)
    assert code != 0 and answers == [STRONG[1]]  # holder 2 was never asked
    assert all(p == "passphrase for share 1 of 3: " for p in prompts)
    assert not (tmp_path / "auth" / "authority.pub").exists()
