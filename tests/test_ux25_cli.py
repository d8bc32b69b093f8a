"""ux25: a new user's errors name the command with its action, the flag and the value; exit codes as
README's 'Exit codes' say (1 an error, 2 a usage error). Each case was said otherwise before (in
the comment beside it); no data needed: every error comes before anything is read."""

from __future__ import annotations

import pytest
from test_vault_common import run_cli

from facesel.cli import build_parser, command_name, main

NO_VAULT = "(no such folder): give the folder that facesel run --vault wrote"


def test_serve_names_config_for_a_missing_file(tmp_path, capsys):
    # Before: "facesel serve: error: config file not found: nosuch.toml" where status/reload named --config.
    missing = tmp_path / "nosuch.toml"
    code, out, err = run_cli(capsys, "serve", "--config", missing)
    assert (code, out, err) == (1, "", f"facesel serve: error: --config {missing}: no such file\n")
    code, _, err = run_cli(capsys, "serve", "--config", missing, "--check")
    assert (code, err) == (1, f"facesel serve: error: --config {missing}: no such file\n")


@pytest.mark.parametrize("action", [[], ["status"], ["reload"]])
def test_serve_names_config_for_a_folder(tmp_path, capsys, action):
    # Before: 'serve status --config DIR' said "[Errno 21] Is a directory: 'DIR'".
    code, out, err = run_cli(capsys, "serve", *action, "--config", tmp_path)
    assert (code, out) == (1, "")
    assert err == f"facesel serve: error: --config {tmp_path}: a folder; give the TOML file (docs/serve.md)\n"


@pytest.mark.parametrize(("argv", "name"), [
    (["authority", "head", "--dir", "a"], "authority head"),
    (["camera", "init", "--out", "c", "--camera-id", "x"], "camera init"),
    (["audit", "verify", "--vault", "v"], "audit verify"),
    (["central", "list"], "central list"),
    (["eval", "crowds"], "eval crowds"),
    (["list", "--vault", "v"], "list"),
])
def test_the_error_prefix_is_the_command_as_typed(argv, name):
    assert command_name(build_parser().parse_args(argv)) == name


def test_an_error_of_an_action_names_the_action(tmp_path, capsys):
    # Before: "facesel audit: error: ..." (and "facesel authority: error: ...") where argparse's own
    # usage errors of the same command said "facesel audit verify: error: ...".
    code, _, err = run_cli(capsys, "audit", "verify", "--vault", tmp_path / "nosuch")
    assert (code, err) == (1, f"facesel audit verify: error: no vault at {tmp_path / 'nosuch'} {NO_VAULT}\n")


def test_an_unknown_flag_is_the_subcommands_usage_error(capsys):
    # Before: "facesel: error: unrecognized arguments: --video x" under facesel's top usage line,
    # naming no subcommand (demo's flag is --input).
    with pytest.raises(SystemExit) as done:
        main(["demo", "--video", "x"])
    err = capsys.readouterr().err
    assert done.value.code == 2
    assert err.startswith("usage: facesel demo ") and err.endswith(
        "facesel demo: error: unrecognized arguments: --video x\n"), err
    with pytest.raises(SystemExit) as done:
        main(["authority", "head", "--dir", "a", "--dri", "b"])
    err = capsys.readouterr().err
    assert done.value.code == 2 and "facesel authority head: error: unrecognized arguments: --dri b" in err, err
    assert "did you mean '--dir'?" in err


@pytest.mark.parametrize("argv", [
    ["purge", "--camera", "c"],  # before: "no vault at V (vault.json is missing)"
    ["sync", "--camera", "c", "--central", "host=127.0.0.1 port=1 dbname=x user=x"],  # the same, store never asked
])
def test_a_mistyped_vault_is_no_such_folder(tmp_path, capsys, argv):
    missing = tmp_path / "nosuch"
    code, _, err = run_cli(capsys, *argv, "--vault", missing)
    assert (code, err) == (1, f"facesel {argv[0]}: error: no vault at {missing} {NO_VAULT}\n")


def test_verify_bundle_names_authority(tmp_path, capsys):
    # Before: "facesel verify-bundle: error: /x/nosuch.pub does not exist", which could be the bundle.
    bundle = tmp_path / "case.zip"
    bundle.write_bytes(b"")
    for given, said in ((tmp_path / "nosuch.pub", "no such file"), (tmp_path, "a folder")):
        code, out, err = run_cli(capsys, "verify-bundle", bundle, "--authority", given)
        assert (code, out) == (1, "")
        assert err == f"facesel verify-bundle: error: --authority {given}: {said}; give the later authority.pub file\n"
