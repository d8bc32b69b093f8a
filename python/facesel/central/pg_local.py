"""A throwaway PostgreSQL server in a temporary folder, for tests, benchmarks and trying things out.

Uses the server binaries of the machine (``initdb``, ``pg_ctl``, ``postgres``): on PATH, or where
Debian's ``postgresql`` package puts them (``/usr/lib/postgresql/<major>/bin``). PostgreSQL
refuses to run as root, so under root the server runs as the ``postgres`` system user (which that
package creates) through ``runuser``. The server listens on 127.0.0.1 only, on a free port, with
``trust`` authentication: never use this for real data.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from facesel.ports import unclaimed_port

_DEBIAN_GLOB = "/usr/lib/postgresql/*/bin"


def find_pg_bin() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or None when PostgreSQL is not installed."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    for folder in sorted(Path("/").glob(_DEBIAN_GLOB.lstrip("/")), reverse=True):  # newest major first
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


class LocalPostgres:
    """Start with :meth:`start`, connect with :attr:`dsn` or :meth:`create_database`, end with :meth:`destroy`.

    Parameters
    ----------
    bin_dir : Path, optional
        Folder of the server binaries (default: :func:`find_pg_bin`).
    root : Path, optional
        Folder for the cluster (default: a new temporary folder, removed by :meth:`destroy`).
    """

    def __init__(self, bin_dir: Path | None = None, root: Path | None = None) -> None:
        self.bin_dir = Path(bin_dir) if bin_dir else find_pg_bin()
        if self.bin_dir is None:
            raise FileNotFoundError("PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in "
                                    f"{_DEBIAN_GLOB}; install the postgresql package")
        self._own_root = root is None
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="facesel-pg-"))
        self.data_dir = self.root / "data"
        self.port = unclaimed_port()  # kept across stop and start: outside the ephemeral range
        self.user = "facesel"
        self._run_as = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root, and there is no 'postgres' user to run the server as") from None
            self._run_as = "postgres"
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, "postgres")
        self._initialised = False

    @property
    def dsn(self) -> str:
        """The connection string of the server's ``postgres`` database."""
        return self.dsn_for("postgres")

    def dsn_for(self, database: str) -> str:
        """The connection string of ``database`` on this server (loopback, this server's user)."""
        return f"host=127.0.0.1 port={self.port} user={self.user} dbname={database}"

    def _cmd(self, *args: str) -> list[str]:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        return ["runuser", "-u", self._run_as, "--", *cmd] if self._run_as else cmd

    def _run(self, *args: str) -> None:
        done = subprocess.run(self._cmd(*args), capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> LocalPostgres:
        """Create the cluster on first use, then start the server and wait until it accepts connections."""
        if not self._initialised:
            self._run("initdb", "-D", str(self.data_dir), "-A", "trust", "-U", self.user, "-E", "UTF8",
                      "--no-sync")
            self._initialised = True
        # Sockets only on TCP 127.0.0.1 (no Unix socket folder to share); fsync stays on, as in production.
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data_dir), "-o", options, "-l", str(self.root / "server.log"),
                  "-w", "-t", "60", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``mode`` "fast" or "immediate", as in ``pg_ctl stop -m``)."""
        if mode not in ("fast", "immediate"):
            raise ValueError(f"mode must be 'fast' or 'immediate', got {mode!r}")
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    def create_database(self, name: str) -> str:
        """Create database ``name`` and return its DSN."""
        import psycopg

        if not name.isidentifier():
            raise ValueError(f"name must be a plain identifier, got {name!r}")
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn_for(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name``, closing its remaining connections."""
        import psycopg

        if not name.isidentifier():
            raise ValueError(f"name must be a plain identifier, got {name!r}")
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def destroy(self) -> None:
        """Stop the server if it runs and remove the cluster folder (if this object made it)."""
        try:
            self.stop("immediate")
        except RuntimeError:
            pass  # not running
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)
