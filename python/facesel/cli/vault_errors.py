"""One clear line for every failure of the vault and authority commands.

``facesel``'s ``main()`` prints ValueError/RuntimeError/FileNotFoundError/PermissionError as one
line. This wrapper turns what else the file system and SQLite raise into those, worded for a
user: no ``[Errno 2]``, no internal argument names, no traceback. A closed output pipe
(``facesel list | head``) ends the command quietly with one line on stderr.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import sys


def _os_message(err: OSError) -> str:
    what = err.strerror or type(err).__name__
    return f"{err.filename}: {what}" if err.filename else what


def clean_errors(func):
    """Decorate a subcommand's ``func(args) -> int``."""

    @functools.wraps(func)
    def wrapper(args):
        try:
            code = func(args)
            sys.stdout.flush()  # a closed pipe shows here, inside the command, not at exit
            return code
        except BrokenPipeError:
            # Nothing more can be written to stdout; keep Python's exit flush from failing too.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
            raise RuntimeError("the output was closed before everything was written") from None
        except FileNotFoundError as err:
            if err.filename is None:
                raise
            raise FileNotFoundError(f"{err.filename} does not exist") from None
        except PermissionError as err:
            raise PermissionError(f"permission denied: {err.filename or err.strerror}") from None
        except OSError as err:
            raise RuntimeError(_os_message(err)) from None
        except sqlite3.Error as err:
            raise RuntimeError(f"the vault index cannot be used ({err}); the records are the truth: move "
                               "index.sqlite away and start the camera to rebuild it") from None

    return wrapper
