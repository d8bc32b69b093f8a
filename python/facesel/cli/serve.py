"""``facesel serve --config facesel.toml``: run every configured camera until SIGTERM."""

from __future__ import annotations

import argparse


def _run(args: argparse.Namespace) -> int:
    from facesel.serve.config import load_config
    from facesel.serve.logs import configure_logging, restore_logging
    from facesel.serve.service import Service

    config = load_config(args.config)
    saved = configure_logging(args.log_level or config.log_level, json_lines=args.json_logs or config.log_format == "json")
    try:
        if args.check:
            print(f"{args.config}: {len(config.cameras)} camera(s) OK: {', '.join(config.cameras)}")
            return 0
        return Service(config).start().run_until_signalled()
    finally:
        restore_logging(saved)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run the cameras of a config file: reconnecting sources, vaults, /metrics and /healthz",
        description="Run N cameras in one process (one pipeline and vault each). SIGTERM/SIGINT seal the "
        "open tracks and exit; SIGHUP reloads the config. See the README's 'Running cameras' section.",
    )
    p.add_argument("--config", required=True, metavar="FILE", help="TOML config (see facesel.serve.config)")
    p.add_argument("--check", action="store_true", help="check the config and exit")
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default=None,
                   help="overrides serve.log_level")
    p.add_argument("--json-logs", action="store_true", help="one JSON object per log line (overrides serve.log_format)")
    p.set_defaults(func=_run)
