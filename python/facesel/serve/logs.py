"""Log set-up for long-running commands: plain lines or one JSON object per line (on stderr).

Log records carry metadata only (camera names, track ids, counts, errors); the code that logs
never passes pixels or face statistics, and this formatter adds nothing but the record's fields.
"""

from __future__ import annotations

import json
import logging
import sys
import time

from facesel.redaction import redact_url

# Extra fields that the serve code attaches to its records and that JSON lines carry.
_EXTRA_FIELDS = ("camera", "event", "track_id", "record_id")


CAMERA_THREAD_PREFIX = "camera:"
"""Each camera of ``facesel serve`` runs on a thread named ``camera:NAME``
(:class:`facesel.serve.camera.Camera`)."""


class CameraFromThread(logging.Filter):
    """Gives a record logged on a camera's thread without a ``camera`` field that camera's name:
    the pipeline's own lines (a track dropped by the finaliser, a slow stage) do not know which
    camera they run for, and on a service with N cameras a line without one is no use."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "camera") and record.threadName.startswith(CAMERA_THREAD_PREFIX):
            record.camera = record.threadName[len(CAMERA_THREAD_PREFIX):]
        return True


class TextFormatter(logging.Formatter):
    """``TIME LEVEL LOGGER: [camera NAME] message``: the camera named once, when the message
    does not already start with it."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The message with ``camera NAME:`` in front when the record names a camera and the
        message does not already start with it.
        """
        camera = getattr(record, "camera", None)
        if camera and not record.message.startswith(f"camera {camera}"):
            record.message = f"camera {camera}: {record.message}"
        return super().formatMessage(record)


class RedactingFilter(logging.Filter):
    """Masks URL credentials in every record a handler writes (message, arguments, traceback):
    an error from any library may quote a camera's URL (:mod:`facesel.redaction`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact_url(record.getMessage()), None
        if record.exc_info:
            record.exc_text = redact_url(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _EXTRA_FIELDS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["error"] = record.exc_text
        return json.dumps(entry)


def configure_logging(level: str = "info", json_lines: bool = False, stream=None) -> tuple:
    """Send the ``facesel`` loggers to ``stream`` (stderr) at ``level``, as text or JSON lines.

    Returns
    -------
    tuple
        The logger's state before, for :func:`restore_logging` (a command run inside a longer
        process, e.g. ``facesel run`` called from Python, gives the logger back as it was).
    """
    numeric = getattr(logging, str(level).upper(), None)
    if not isinstance(numeric, int):
        raise ValueError(f"log level must be one of debug, info, warning, error; got {level!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    handler.addFilter(CameraFromThread())
    logger = logging.getLogger("facesel")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    for old in [h for h in logger.handlers if getattr(h, "_facesel_cli", False)]:
        logger.removeHandler(old)
    handler.addFilter(RedactingFilter())
    handler._facesel_cli = True
    logger.addHandler(handler)
    logger.setLevel(numeric)
    logger.propagate = False
    return saved


def restore_logging(saved: tuple) -> None:
    """Put the ``facesel`` logger back as :func:`configure_logging` found it."""
    handlers, level, propagate = saved
    logger = logging.getLogger("facesel")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    for handler in handlers:
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = propagate
