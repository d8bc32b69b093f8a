"""The documents name only options and defaults the code has, and their links land on headings.

Mechanical checks, all in-process (no subprocess, no network):

* every ``facesel SUBCOMMAND --option`` written in README.md or docs/*.md, in a code block or an
  inline code span, is an option of that subcommand's argparse parser (``facesel.cli.build_parser``),
  and every shell line of a code block that starts with ``facesel`` names a real subcommand;
* every key in docs/serve.md's settings tables ("| key | default | what |") is a key the config
  accepts, and the default the table states is what ``facesel.serve.config.parse_config`` gives a
  camera (or ``[serve]``) that leaves the key out;
* every ``python SCRIPT.py --option`` names a script that exists and defines that option;
* every ``name = value`` span of README.md and docs/serve.md is a config key the config accepts
  with that value;
* every link to ``#anchor`` (or ``other.md#anchor``) resolves to a heading there;
* every repository file named in a code span (``benchmarks/...``, ``facesel/serve/...py``) exists;
* every dotted ``facesel.x.y`` name in a code span imports (module, then attributes).

Each checker is also run on a made-up document, so that a wrong option or link is shown to fail.
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest
from facesel.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
INLINE = re.compile(r"`([^`]+)`")  # a span may wrap onto the next line of its paragraph
# Where a command ends on its line: a pipe, a chain, a comment, a redirection.
COMMAND_END = re.compile(r"\s(?:\||&&|;|#|>|2>)\s|\s#")
OPTION = re.compile(r"^(--?[A-Za-z][A-Za-z0-9-]*)")


def parser_options(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], set[str]]:
    """Every (sub)command path, e.g. ``("eval", "tracks")``, mapped to its option strings."""
    table = {path: set()}
    for action in parser._actions:
        table[path].update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                table.update(parser_options(sub, path + (name,)))
    return table


def logical_lines(block: str) -> list[str]:
    """A code block's lines with shell continuations (a trailing backslash) joined."""
    return block.replace("\\\n", " ").splitlines()


def command_mentions(text: str) -> list[tuple[str, bool]]:
    """The texts in which a ``facesel`` command may be written: each logical line of a code block
    (True: a shell line, where ``facesel`` at its start must be a command) and each inline code span
    outside code blocks (False)."""
    found = [(re.split(r"(?:^|\s)#", line, maxsplit=1)[0], True)  # a shell comment is no command
             for block in FENCE.findall(text) for line in logical_lines(block)]
    prose = FENCE.sub("", text)
    # An indented code block (four spaces) of commands, as the model card's "Reproduce" section.
    found += [(line, True) for line in logical_lines(prose) if re.match(r" {4}(?:facesel|python3?) ", line)]
    found += [(" ".join(span.split()), False) for span in INLINE.findall(prose) if "\n\n" not in span]
    return found


def words_after_facesel(line: str) -> list[list[str]]:
    """The tokens after each ``facesel`` (or ``python -m facesel``) on the line, up to where its
    command ends. ``facesel`` must be a word of its own (not ``facesel.toml``, ``user=facesel``)."""
    commands = []
    for match in re.finditer(r"(?:^|(?<=[\s($`]))facesel(?=\s)", line):
        rest = COMMAND_END.split(line[match.end():], maxsplit=1)[0]
        try:
            tokens = shlex.split(rest, comments=False)
        except ValueError:  # an unbalanced quote in prose: fall back to plain words
            tokens = rest.split()
        commands.append(tokens)
    return commands


def check_text(text: str, options: dict[tuple[str, ...], set[str]]) -> list[str]:
    """Problems with the ``facesel`` commands written in ``text`` (empty: none)."""
    problems = []
    for line, shell in command_mentions(text):
        for tokens in words_after_facesel(line):
            path = ()
            while tokens and path + (tokens[0],) in options:
                path += (tokens.pop(0),)
            at_start = line.lstrip().lstrip("$ ").startswith("facesel")
            if not path and tokens and not tokens[0].startswith("-"):
                if shell and at_start:
                    problems.append(f"no subcommand {tokens[0]!r}: {line.strip()}")
                continue  # prose such as "facesel keeps one ...": no command
            for token in tokens:
                option = OPTION.match(token.lstrip("[("))  # "[--degrade 1]": an optional part
                if option and option.group(1) not in options[path]:
                    name = " ".join(("facesel",) + path)
                    problems.append(f"{name} has no option {option.group(1)}: {line.strip()}")
    return problems


SCRIPT = re.compile(r"(?:^|(?<=[\s($`]))python3? ((?:[\w./-]+/)?[\w-]+\.py)(?=\s|$)")


def _with_sibling_imports(script: Path) -> str:
    """``script``'s source and that of every module of its own folder it imports with ``from NAME
    import`` (benchmarks/bench_args.py defines the video arguments several harnesses share)."""
    source = script.read_text(encoding="utf-8")
    for name in sorted(set(re.findall(r"^from (\w+) import", source, re.MULTILINE))):
        sibling = script.parent / f"{name}.py"
        if sibling.is_file() and sibling != script:
            source += "\n" + sibling.read_text(encoding="utf-8")
    return source


def check_scripts(text: str, root: Path = ROOT) -> list[str]:
    """Problems with the ``python SCRIPT.py --option`` commands written in ``text``: the script
    must exist (from the repository root, or under benchmarks/ or experiments/ when named bare) and
    define each long option it is given (as a quoted string: its argparse ``add_argument``)."""
    problems = []
    for line, _ in command_mentions(text):
        for match in SCRIPT.finditer(line):
            name = match.group(1)
            script = next((path for path in (root / name, root / "benchmarks" / name, root / "experiments" / name)
                           if path.is_file()), None)
            if script is None:
                problems.append(f"no script {name}: {line.strip()}")
                continue
            source = _with_sibling_imports(script)
            for token in COMMAND_END.split(line[match.end():], maxsplit=1)[0].split():
                option = OPTION.match(token.lstrip("[("))
                if option and option.group(1).startswith("--") and \
                        f'"{option.group(1)}"' not in source and f"'{option.group(1)}'" not in source:
                    problems.append(f"{name} has no option {option.group(1)}: {line.strip()}")
    return problems


@pytest.fixture(scope="module")
def options():
    return parser_options(build_parser())


def test_the_extractor_finds_a_wrong_option_and_a_wrong_subcommand(options):
    text = ("Run `facesel run clip.mp4 --no-finalise` or `facesel run --no-such-option`.\n\n"
            "    facesel train --data d --out m \\\n        [--cachee x.npz]\n\n"
            "```bash\nfacesel eval tracks --window 4s \\\n    --made-up 3   # a comment --not-an-option\n"
            "facesel evl tracks\nexport FACESEL_CENTRAL=\"user=facesel sslmode=verify-full\"\n```\n"
            "facesel keeps one snapshot; `facesel serve status --config x.toml --json`\n")
    assert check_text(text, options) == [
        "facesel eval tracks has no option --made-up: facesel eval tracks --window 4s      --made-up 3",
        "no subcommand 'evl': facesel evl tracks",
        "facesel train has no option --cachee: facesel train --data d --out m          [--cachee x.npz]",
        "facesel run has no option --no-such-option: facesel run --no-such-option",
    ]


def test_the_script_check_finds_a_missing_script_and_option():
    text = ("`python benchmarks/capacity.py --cameras 2\n  --no-such-flag` and `python experiments/not_there.py --x`"
            "\n\n```bash\nnice -n 5 python benchmarks/capacity.py --seconds 20 --warmup 5 | tee --y\n```\n")
    assert check_scripts(text) == [
        "benchmarks/capacity.py has no option --no-such-flag: python benchmarks/capacity.py --cameras 2 --no-such-flag",
        "no script experiments/not_there.py: python experiments/not_there.py --x",
    ]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_documented_option_exists(document, options):
    text = document.read_text(encoding="utf-8")
    assert check_text(text, options) == []
    assert check_scripts(text) == []


# --- docs/serve.md's settings tables -------------------------------------------------------------

TABLE_ROW = re.compile(r"^\| (`[^|]+`) \| ([^|]+) \| [^|]*\|?.*$", re.MULTILINE)


def settings_rows(text: str) -> list[tuple[str, list[str], str]]:
    """(section, keys, default cell) of each row of a "| key | default | what |" table."""
    rows = []
    for table in re.finditer(r"^\| key \| default \| what \|\n\|---\|---\|---\|\n((?:\|.*\n)+)", text, re.MULTILINE):
        section = text[:table.start()].rstrip().rsplit("\n", 1)[-1]
        for keys, default in TABLE_ROW.findall(table.group(1)):
            rows.append((section, re.findall(r"`([a-z_]+)`", keys), default.strip()))
    return rows


def literal_values(cell: str) -> list | None:
    """A default cell's values when it is literal (``true``, ``16``, ``10 s``, ``"pyav"``, ``none``;
    several separated by commas); None when it is prose ("the key's id", "(required)")."""
    values = []
    for part in cell.split(", "):
        part = part.strip().strip("`")
        if part in ("true", "false"):
            values.append(part == "true")
        elif part == "none":
            values.append(())
        elif re.fullmatch(r'"[^"]*"', part):
            values.append(part[1:-1])
        elif re.fullmatch(r"\d+(\.\d+)?( s)?", part):
            number = float(part.removesuffix(" s"))
            values.append(int(number) if number.is_integer() and not part.endswith(" s") else number)
        else:
            return None
    return values


@pytest.fixture(scope="module")
def parsed_defaults(tmp_path_factory):
    """What parse_config gives a file camera, an RTSP camera and ``[serve]`` that set nothing optional."""
    from facesel.serve.config import parse_config
    from test_vault_common import camera_dir, make_live_authority

    folder = tmp_path_factory.mktemp("docs_truth")
    make_live_authority(folder / "authority", camera_id="file-cam")
    from test_vault_common import add_camera

    add_camera(folder / "authority", "rtsp-cam")
    clip = ROOT / "python" / "facesel" / "demo_data" / "intel_face_demographics_walking.gif"
    common = {"authority": str(folder / "authority" / "authority.pub")}
    cameras = {
        "file-cam": {"source": str(clip), "vault": str(folder / "v1"), "camera_key": str(camera_dir(folder / "authority", "file-cam"))},
        "rtsp-cam": {"source": "rtsp://127.0.0.1:1/none", "vault": str(folder / "v2"),
                     "camera_key": str(camera_dir(folder / "authority", "rtsp-cam"))},
    }
    return parse_config({"defaults": common, "cameras": cameras})


def serve_value(config, key):
    if key == "listen":
        return f"{config.listen[0]}:{config.listen[1]}"
    return getattr(config, key)


def test_serve_settings_tables_state_the_parsed_defaults(parsed_defaults):
    from facesel.serve.config import CAMERA_KEYS, SERVE_KEYS

    rows = settings_rows((ROOT / "docs" / "serve.md").read_text(encoding="utf-8"))
    sections = {section for section, _, _ in rows}
    assert len(sections) == 2, sections  # the [serve] table and the camera table
    checked = 0
    for section, keys, cell in rows:
        serve_table = "[serve]" in section
        assert set(keys) <= (SERVE_KEYS if serve_table else CAMERA_KEYS | {"retention_hours"}), (section, keys)
        values = literal_values(cell)
        if values is None:
            continue
        if len(values) == 1:
            values = values * len(keys)  # "`mqtt`, `webhook` | none": one default for each
        assert len(values) == len(keys), (keys, cell)
        for key, documented in zip(keys, values):
            if serve_table:
                actual = serve_value(parsed_defaults, key)
                assert actual == documented, f"[serve] {key}: docs say {documented!r}, parse_config gives {actual!r}"
            else:
                for camera in parsed_defaults.cameras.values():
                    actual = getattr(camera, key)
                    assert actual == documented, \
                        f"camera {camera.name} {key}: docs say {documented!r}, parse_config gives {actual!r}"
            checked += 1
    assert checked >= 20  # the tables were found and read, not skipped


def test_every_serve_key_of_the_code_has_a_row_in_docs_serve_md():
    """The other direction of the tables' check (ux15): a key the config accepts but docs/serve.md
    leaves out would be a setting an operator can only find by reading config.py. The keys of the
    nested tables ([serve.mqtt], [serve.webhook], [[cameras.NAME.zones]]) are named in code spans."""
    from facesel.serve.config import CAMERA_KEYS, SERVE_KEYS
    from facesel.serve.events import MQTT_KEYS, WEBHOOK_KEYS
    from facesel.serve.zones import ZONE_KEYS

    text = (ROOT / "docs" / "serve.md").read_text(encoding="utf-8")
    in_tables = {key for _, keys, _ in settings_rows(text) for key in keys}
    assert sorted((SERVE_KEYS | CAMERA_KEYS) - in_tables) == []
    spans = set(re.findall(r"`([a-z_]+)(?: = [^`]*)?`", FENCE.sub("", text)))
    assert sorted((MQTT_KEYS | WEBHOOK_KEYS | ZONE_KEYS) - spans) == []


def test_the_event_tables_defaults_in_docs_serve_md_are_the_code_s():
    """ux18: docs/serve.md named the keys of [serve.mqtt] and [serve.webhook] without a default
    (the broker's port, the topic, the QoS could only be read in events.py). Each `key = value`
    the Events paragraph states is what the config check fills in when the key is left out."""
    import tomllib

    from facesel.serve.events import check_mqtt, check_webhook

    text = (ROOT / "docs" / "serve.md").read_text(encoding="utf-8")
    paragraph = text[text.index("`[serve.mqtt]` ("):text.index("send one JSON object per event")]
    stated = {key: tomllib.loads(f"v = {value}")["v"] for key, value in re.findall(r"`([a-z_]+) = ([^`]+)`", paragraph)}
    assert {"host", "port", "topic", "qos", "tls", "timeout", "allow_plain_http"} <= set(stated), stated
    mqtt = dict(check_mqtt({}, "serve.mqtt", ROOT))
    webhook = dict(check_webhook({"url": "http://127.0.0.1:1/hook"}, "serve.webhook"))
    for key, value in stated.items():
        if key in ("tls", "allow_plain_http"):  # false: absent from the checked settings, which keep what is on
            assert value is False and key not in mqtt and key not in webhook
        else:
            assert {**mqtt, **webhook}[key] == value, key

def test_serve_settings_that_depend_on_the_source(parsed_defaults):
    """The rows whose default is prose: as docs/serve.md words them."""
    cams = parsed_defaults.cameras
    text = (ROOT / "docs" / "serve.md").read_text(encoding="utf-8")
    assert "| `realtime` | true for files |" in text and cams["file-cam"].realtime is True
    assert "| `live` | true for streams and webcams, false for files |" in text
    from facesel.sources import make_source

    for camera, live in ((cams["file-cam"], False), (cams["rtsp-cam"], True)):  # live=None: make_source decides
        assert camera.live is None and make_source(camera.source, live=camera.live).live is live
    assert "| `camera_id` | the key's id |" in text and cams["file-cam"].camera_id == "file-cam"
    # convert_on_take / skip_when_behind: on where the camera decodes with PyAV anyway (an RTSP stream
    # with the default backend), off for a file decoded by OpenCV.
    assert (cams["rtsp-cam"].convert_on_take, cams["rtsp-cam"].skip_when_behind) == (True, True)
    assert (cams["file-cam"].convert_on_take, cams["file-cam"].skip_when_behind) == (False, False)
    assert "| `pipeline` | `facesel.config.PipelineConfig`'s defaults |" in text


# --- links to headings ---------------------------------------------------------------------------

def heading_anchors(text: str) -> set[str]:
    """The anchors a renderer gives the headings (GitHub's rule: lower case, punctuation other than
    '-' and '_' dropped, spaces to '-', a repeated anchor suffixed -1, -2, ...); code blocks skipped."""
    anchors, seen = set(), {}
    for heading in re.findall(r"^#{1,6} (.+)$", FENCE.sub("", text), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


def broken_anchors(document: Path) -> list[str]:
    """Links ``[..](#anchor)`` or ``[..](other.md#anchor)`` whose anchor is no heading there."""
    text = document.read_text(encoding="utf-8")
    problems = []
    for target, anchor in re.findall(r"\]\(([^)#\s]*)#([^)\s]+)\)", FENCE.sub("", text)):
        path = document.parent / target if target else document
        if not path.is_file() or anchor not in heading_anchors(path.read_text(encoding="utf-8")):
            problems.append(f"{target}#{anchor}")
    return problems


def test_the_anchor_check_finds_a_link_to_no_heading(tmp_path):
    (tmp_path / "other.md").write_text("# Other\n## Decoder options, second look: `skip_idct` (2026-12-06)\n")
    page = tmp_path / "page.md"
    page.write_text("# Page\n## Page\n[a](#page-1) [b](#page-2) [c](other.md#decoder-options-second-look-skip_idct-2026-12-06)"
                    " [d](other.md#decoder-options) [e](gone.md#x)\n```\n# not a heading\n```\n[f](#not-a-heading)\n")
    assert broken_anchors(page) == ["#page-2", "other.md#decoder-options", "gone.md#x", "#not-a-heading"]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_to_a_heading_resolves(document):
    assert broken_anchors(document) == []


def example_configs() -> dict[str, str]:
    """The configs the documents show: README.md's ``facesel.toml`` block and deploy/facesel.toml."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return {"README.md": re.search(r"```toml\n(.*?)```", readme, re.DOTALL).group(1),
            "deploy/facesel.toml": (ROOT / "deploy" / "facesel.toml").read_text(encoding="utf-8")}


@pytest.mark.parametrize("where", ["README.md", "deploy/facesel.toml"])
def test_the_example_configs_are_accepted_as_written(where, tmp_path):
    """The example passes ``parse_config`` with only its absolute paths moved into a temporary folder
    (an authority, and a key for each camera it names, made there)."""
    import tomllib
    from facesel.serve.config import parse_config
    from test_vault_common import add_camera, camera_dir, make_live_authority

    example = example_configs()[where]
    cameras = re.findall(r"^\[cameras\.([\w-]+)\]$", example, re.MULTILINE)
    make_live_authority(tmp_path / "authority", camera_id=cameras[0])
    for name in cameras[1:]:
        add_camera(tmp_path / "authority", name)
    moved = {"/etc/facesel/authority.pub": tmp_path / "authority" / "authority.pub"}
    for name in cameras:
        moved[f"/etc/facesel/cameras/{name}"] = camera_dir(tmp_path / "authority", name)
        moved[f"/var/lib/facesel/{name}"] = tmp_path / "vaults" / name
    for path, here in moved.items():
        assert f'"{path}"' in example, path  # the example still names it: the test reads what it says
        example = example.replace(f'"{path}"', f'"{here}"')
    config = parse_config(tomllib.loads(example))
    assert sorted(config.cameras) == sorted(cameras)
    entrance = config.cameras["entrance"]
    assert entrance.camera_id == "entrance" and entrance.settings["min_hits"] == 3
    assert config.log_format == "json" and config.listen == ("127.0.0.1", 9108)


# Names in `name = value` spans that are not config keys: FFmpeg's own option.
NOT_CONFIG_KEYS = {"skip_frame"}


def documented_settings(text: str) -> list[tuple[str, str]]:
    """Every ``name = value`` code span (a TOML setting as the docs write it), outside code blocks."""
    return re.findall(r"`((?:serve\.)?[a-z_]+) = ([^`]+)`", FENCE.sub("", text))


@pytest.mark.parametrize("document", ["README.md", "docs/serve.md"])
def test_every_documented_setting_is_accepted_by_the_config(document, parsed_defaults, tmp_path):
    """Each ``name = value`` the document writes, put where it belongs ([serve], the camera's table,
    its pipeline table, a zone), passes ``parse_config`` on a real file camera: the key exists and
    the value is one the config takes."""
    from dataclasses import fields

    import tomllib
    from facesel.config import PipelineConfig
    from facesel.serve.config import CAMERA_KEYS, SERVE_KEYS, parse_config
    from facesel.serve.events import MQTT_KEYS, WEBHOOK_KEYS

    camera = parsed_defaults.cameras["file-cam"]
    base = {"source": camera.source, "vault": str(tmp_path / "vault"), "camera_key": str(camera.camera_key),
            "authority": str(camera.authority)}
    pipeline_keys = {f.name for f in fields(PipelineConfig)} | {"scorer"}
    settings = documented_settings((ROOT / document).read_text(encoding="utf-8"))
    assert len(settings) >= 10  # the spans were found
    for name, value in settings:
        if name in NOT_CONFIG_KEYS:
            continue
        parsed = tomllib.loads(f"v = {value}")["v"]
        table = {"defaults": {}, "cameras": {"cam": dict(base)}}
        key = name.removeprefix("serve.")
        if key in SERVE_KEYS:
            table["serve"] = {key: parsed}
        elif key in CAMERA_KEYS:
            table["cameras"]["cam"][key] = parsed
        elif key in pipeline_keys:
            table["cameras"]["cam"]["pipeline"] = {key: parsed}
        elif key == "kind":  # a zone's kind
            table["cameras"]["cam"]["zones"] = [{"kind": parsed, "points": [[0, 0], [10, 0], [10, 10]]}]
        elif key in MQTT_KEYS:  # [serve.mqtt]'s own keys (tls, ca_file, ...), on a broker of this machine
            table["serve"] = {"mqtt": {"host": "127.0.0.1", key: parsed}}
            if key == "ca_file":
                continue  # a path the document names as an example: its existence is the operator's
        elif key in WEBHOOK_KEYS:  # [serve.webhook]'s own keys (allow_plain_http, ...), to this machine
            table["serve"] = {"webhook": {"url": "http://127.0.0.1:8080/hook", key: parsed}}
        else:
            raise AssertionError(f"{document}: `{name} = {value}` names no config key")
        parse_config(table)  # raises, naming the key, on a value the config refuses


# --- files the documents name --------------------------------------------------------------------

NAMED_PATH = re.compile(r"`((?:python/facesel|benchmarks|experiments|docs|deploy|tests|examples|cpp|cuda|\.ci)/[\w./*-]*"
                        r"|facesel/[\w./-]*\.(?:py|json|onnx|toml))`")


def missing_paths(text: str, root: Path = ROOT) -> list[str]:
    """Repository paths written in code spans (``python/facesel/...``, ``benchmarks/...``, a module
    as ``facesel/...py`` under python/, a glob as ``tests/test_vault_*.py``) that match no file."""
    missing = []
    for name in NAMED_PATH.findall(FENCE.sub("", text)):
        name = name.rstrip(".")
        where = root / "python" if name.startswith("facesel/") else root
        if not (list(where.glob(name)) if "*" in name else (where / name).exists()):
            missing.append(name)
    return missing


def test_the_path_check_finds_a_missing_file():
    text = "`benchmarks/capacity.py`, `facesel/serve/sealer.py`, `tests/test_vault_*.py`, `docs/eval/tracks.md`, `facesel/nope.py`."
    assert missing_paths(text) == ["docs/eval/tracks.md", "facesel/nope.py"]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_named_file_exists(document):
    assert missing_paths(document.read_text(encoding="utf-8")) == []


# --- Python names the documents give -------------------------------------------------------------

DOTTED = re.compile(r"`(facesel(?:\.[A-Za-z_]\w*)+)(?:\(\))?`")


def unresolved_names(text: str) -> list[str]:
    """Dotted names in code spans (``facesel.serve.config.SERVE_PIPELINE_DEFAULTS``,
    ``facesel.select.finalise.Finaliser.for_config``) that do not import: the longest importable
    module prefix, then attributes. File names such as ``facesel.toml`` are not names."""
    import importlib

    missing = []
    for name in DOTTED.findall(FENCE.sub("", text)):
        if name.rsplit(".", 1)[-1] in ("toml", "py", "json", "service"):
            continue
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                found = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for attribute in parts[cut:]:
                found = getattr(found, attribute, None)
            break
        if found is None:
            missing.append(name)
    return missing


def test_the_name_check_finds_a_missing_name():
    text = ("`facesel.serve.config.SERVE_PIPELINE_DEFAULTS`, `facesel.select.finalise.Finaliser.for_config`, "
            "`facesel.toml`, `facesel.scoring.default_scorer()`, `facesel.select.finalise.Finalizer`, `facesel.nope.x`")
    assert unresolved_names(text) == ["facesel.select.finalise.Finalizer", "facesel.nope.x"]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_name_resolves(document):
    assert unresolved_names(document.read_text(encoding="utf-8")) == []
