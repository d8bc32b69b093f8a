"""``facesel serve --config facesel.toml``: run every configured camera until SIGTERM;
``facesel serve status|reload --config facesel.toml``: ask the running service (its status port).

Exit codes: ``serve``: 0 after SIGTERM/SIGINT with every track sealed, 1 on an error, when a
camera was still busy after ``serve.shutdown_timeout`` or when one could not seal its open tracks
while stopping (a full disk). ``status``: 0 when every camera is up,
3 when one is not, 1 when no service answers. ``reload``: 0 when applied, 1 when the file was
refused (the service goes on unchanged) or no service answers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys

EXIT_DEGRADED = 3


# Flags that only one action reads: given to another, they were dropped without a word (ux23):
# `serve status --check` asked the running service instead of checking the file.
_ACTION_FLAGS = {"check": ("--check", ("run",)), "pid_file": ("--pid-file", ("run",)), "json": ("--json", ("status",))}


def misplaced_flags(args: argparse.Namespace) -> str | None:
    """The usage error for a flag the action does not read (None when every flag given is read)."""
    for name, (flag, actions) in _ACTION_FLAGS.items():
        if getattr(args, name) not in (None, False) and args.action not in actions:
            goes = " or ".join(f"'{a}'" for a in actions) + (" (the default action)" if "run" in actions else "")
            hint = {"--check": "'facesel serve --config FILE --check' checks the file without starting anything",
                    "--pid-file": "the service writes it when it starts ('facesel serve --config FILE --pid-file F')",
                    "--json": "'facesel serve status --config FILE --json' gives the status as JSON; --json-logs makes "
                              "the log lines JSON"}[flag]
            return f"{flag} goes with {goes}, not '{args.action}': {hint}"
    return None


def _run(args: argparse.Namespace) -> int:
    from facesel.serve.config import load_config

    if (misplaced := misplaced_flags(args)) is not None:
        print(f"facesel serve: error: {misplaced}", file=sys.stderr)
        return 2
    if os.path.isdir(args.config):  # "[Errno 21] Is a directory" from 'serve status' before ux25
        raise ValueError(f"--config {args.config}: a folder; give the TOML file (docs/serve.md)")
    if args.action != "run":
        return _ask(args)
    try:
        config = load_config(args.config)
    except FileNotFoundError:
        # "config file not found: F" did not name the flag where 'serve status'/'reload' do (ux25)
        raise FileNotFoundError(f"--config {args.config}: no such file") from None
    from facesel.serve.logs import configure_logging, restore_logging
    from facesel.serve.pidfile import PidFile
    from facesel.serve.quiet_media import quiet_media_libraries
    from facesel.serve.service import Service

    saved = configure_logging(args.log_level or config.log_level, json_lines=args.json_logs or config.log_format == "json")
    try:
        if args.check:
            from facesel.serve.listen_check import refuse_unusable_listen

            try:
                refuse_unusable_listen(config.listen)  # the start would fail there: say it now
            except ValueError as err:
                raise ValueError(f"{args.config}: {err}") from None
            print(f"{args.config}: {len(config.cameras)} camera(s) OK: {', '.join(config.cameras)}")
            return 0
        quiet_media_libraries(args.log_level or config.log_level)
        with contextlib.ExitStack() as stack:
            if args.pid_file is not None:
                stack.enter_context(PidFile(args.pid_file))  # before the start: a second service stops here
            return Service(config).start().run_until_signalled()
    finally:
        restore_logging(saved)


def _pid_file(text: str) -> str:
    """``--pid-file``'s type: its folder must exist (exit 2 naming the flag, before anything starts)."""
    from facesel.serve.pidfile import missing_folder

    if (why := missing_folder(text)) is not None:
        raise argparse.ArgumentTypeError(why)
    return text


def _ask(args: argparse.Namespace) -> int:
    from facesel.serve.control import call, listen_of

    try:
        listen = listen_of(args.config)
    except FileNotFoundError:
        # "config file not found: F" alone left an operator who had moved the file wondering
        # whether the service had dropped its cameras (ux21): say that nothing was asked of it.
        effect = ("no reload was asked: the running service, if any, goes on unchanged with the config it read last"
                  if args.action == "reload" else "no service was asked")
        raise FileNotFoundError(f"--config {args.config}: no such file (moved or deleted?); {effect}. Give the "
                                "path of the file the service was started with") from None
    if args.action == "reload":
        code, body = call(listen, "POST", "/reload")
        lines = _answer_lines(listen, "/reload", _reload_lines, code, body)
    else:
        code, body = call(listen, "GET", "/status")
        lines = _answer_lines(listen, "/status", _status_lines, code, body)  # checked with --json too
        if args.json:
            lines = [json.dumps(body, indent=2)]  # JSON's escapes keep control characters off the terminal
    for line in lines:
        print(line)
    if args.action == "reload":
        return 0
    up = all(cam.get("up") is True or cam.get("state") == "disabled" for cam in body["cameras"].values())
    return 0 if up else EXIT_DEGRADED


def _answer_lines(listen: tuple[str, int], path: str, lines_of, code: int, body) -> list[str]:
    """The terminal lines of a service's answer, each non-printable character escaped.

    Whatever answers on ``serve.listen`` writes these words: while the service is down any local
    account may listen on its port. Its text went to the terminal raw (an OSC 52 sequence sets the
    clipboard in terminals that honour it; an erase and a conceal code rewrite or hide a line), and
    an answer of another shape (a list, a missing key, a string where a count belongs) ended in a
    Python traceback (review round 15a, finding 6). The exit status is decided only on an answer
    that reads as the service's (with ``--json`` too, whose output escapes control characters)."""
    from facesel.cli.batch import shown

    host, port = listen
    try:
        return [shown(line) for line in lines_of(code, body)]
    except (KeyError, TypeError, AttributeError, ValueError) as err:
        if isinstance(err, _Refused):
            raise ValueError(shown(str(err))) from None
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        raise RuntimeError(f"what answers on {where} is not a facesel serve (its {path} answer does not read as "
                           f"one: {shown(repr(err))})") from None


class _Refused(ValueError):
    """The service refused the reload: its own words, said as they are (escaped)."""


def _reload_lines(code: int, body) -> list[str]:
    if code == 403:  # not a peer on this machine (serve/control.py)
        raise _Refused(f"reload refused: {body.get('error', body)}")
    if code != 200:
        raise _Refused(f"config refused, the cameras go on unchanged: {body.get('error', body)}")
    lines = ["reloaded: " + ", ".join(f"{what} {', '.join(_names(body[what])) or 'none'}"
                                      for what in ("added", "removed", "changed"))]
    for problem in _names(body.get("unreadable", [])):  # applied all the same: that camera stays down (ux20)
        lines.append(f"still down: {problem}; that camera keeps its source until the file can be read")
    if body.get("restart"):
        lines.append(f"not applied: {', '.join(_names(body['restart']))} changed in the file; they take a restart "
                     "(stop and start facesel serve)")
    return lines


def _names(value) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"a list of names expected, got {type(value).__name__}")
    return value


def _status_lines(code: int, body) -> list[str]:
    lines = [f"facesel serve pid {body['pid']}, up {body['uptime_s']:.0f} s, {body['reloads']} reload(s), "
             f"{body['sealed_total']} records sealed"]
    for name, cam in body["cameras"].items():
        if cam["state"] == "disabled":
            lines.append(f"  {name}: disabled ({cam['reason']})")
            continue
        reason = f" ({cam['reason']})" if cam.get("reason") else ""
        # a camera that never reconnected but failed to connect 40 times read "0 reconnects" (ux20)
        failures = f", {cam['connect_failures']} failed connection attempts" if cam.get("connect_failures") else ""
        lines.append(f"  {name}: {'up' if cam['up'] else 'DOWN'}, {cam['state']}{reason}; {cam['processed']} frames, "
                     f"{cam['open_tracks']} open tracks, {cam['sealed']} sealed, {cam['frames_dropped']} dropped, "
                     f"{cam['reconnects']} reconnects{failures}{_unsealed(cam)}")
    return lines


def _unsealed(cam: dict) -> str:
    """The status line's end for closed tracks not sealed yet or lost (ops21): "" when none."""
    held, lost = cam.get("tracks_held", 0), cam.get("tracks_lost", 0)
    parts = [f"{held} closed tracks held unsealed in memory (retried when the vault writes again)"] if held else []
    if lost:
        parts.append(f"{lost} closed tracks LOST (their seals failed)")
    return "".join(f", {part}" for part in parts)


# What a new user looks for in --help (review 17b): the file's keys, listed here rather than read
# from facesel.serve.config (which imports the pipeline: every facesel command builds this
# parser); tests/test_serve_help.py fails when a camera key is missing from this text.
CONFIG_KEYS_HELP = (
    "config keys (docs/serve.md, 'Every key and its default'): [serve] listen, status_hosts, log_format, log_level, "
    "shutdown_timeout, view, mqtt, webhook; [cameras.NAME] (and [defaults], but for source, vault, camera_key, "
    "camera_id and zones) source, vault, authority, camera_key, camera_id, enabled, loop, realtime, live, backend, open_timeout, read_timeout, stall_timeout, "
    "reconnect_max_delay, buffer_frames, flush_buffer_frames, cap_buffer_frames, max_frame_pixels (largest frame "
    "decoded, default 33177600), convert_on_take, skip_when_behind, shrink_in_decoder, skip_loop_filter, "
    "seal_in_background, held_max_bytes (unsealed tracks kept in memory, default 67108864), stagger_detection, coarsen_detection, max_detect_every, coarsen_with_tiers, "
    "refine_backoff, settle_coarsening, retention_hours, retention_reason, zones; [cameras.NAME.pipeline] "
    "facesel run's settings (limits_in_seconds: max_age and min_hits held to their seconds below 25 fps; "
    "fps and thumbnails excepted: a camera takes its source's rate) and scorer. 'serve --check' checks them all.")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``facesel serve`` to ``subparsers``."""
    p = subparsers.add_parser(
        "serve",
        help="run the cameras of a config file (reconnecting sources, vaults, /metrics, /healthz); "
             "'serve status' / 'serve reload' ask the running service",
        description="Run N cameras in one process (one pipeline and vault each). SIGTERM/SIGINT seal the "
        "open tracks and exit; SIGHUP or 'facesel serve reload' reloads the config; 'facesel serve status' "
        "shows each camera. See the README's 'Running cameras' section.",
        epilog=CONFIG_KEYS_HELP,
    )
    p.add_argument("action", nargs="?", choices=("run", "status", "reload"), default="run",
                   help="run the service (default), or ask the running one for its status or to reload its "
                   "config (through serve.listen)")
    p.add_argument("--config", required=True, metavar="FILE", help="TOML config (see facesel.serve.config)")
    p.add_argument("--check", action="store_true", help="check the config and exit")
    p.add_argument("--pid-file", metavar="FILE", default=None, type=_pid_file,
                   help="write the service's process id to FILE (removed at exit; refused while another "
                   "facesel serve holds it; FILE's folder must exist)")
    p.add_argument("--json", action="store_true", help="status: the JSON answer as it is")
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default=None,
                   help="overrides serve.log_level")
    p.add_argument("--json-logs", action="store_true", help="one JSON object per log line (overrides serve.log_format)")
    p.set_defaults(func=_run)
