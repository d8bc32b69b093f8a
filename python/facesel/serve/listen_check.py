"""``serve --check``: can this machine listen at ``serve.listen``'s address at all?

The config's reading checks only the form ``HOST:PORT``; an address of another machine
(``8.8.8.8:9108``, a mistyped interface address) or a host name that does not resolve passed
``--check`` ("1 camera(s) OK") and failed only when the service started. Binding the address with
port 0 asks the kernel exactly what ``serve`` will ask, without taking the configured port, which
a running service (the one ``--check`` vets an edit for) may hold.
"""

from __future__ import annotations

import errno
import socket


def refuse_unusable_listen(listen: tuple[str, int] | None) -> None:
    """Raise ValueError naming ``serve.listen`` when no socket can be bound at its host (any port).
    ``listen`` is the config's (host, port), None for no status port."""
    if listen is None:
        return
    host, port = listen
    where = f"serve.listen = \"{host}:{port}\""
    try:
        addresses = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as err:
        raise ValueError(f"{where}: cannot listen there ({getattr(err, 'strerror', None) or err})") from None
    last = None
    for family, kind, proto, _, address in addresses:
        try:
            with socket.socket(family, kind, proto) as probe:
                probe.bind((address[0], 0, *address[2:]))
            return
        except OSError as err:
            last = err
    why = ": not an address of this machine" if last.errno == errno.EADDRNOTAVAIL else ""
    raise ValueError(f"{where}: cannot listen there ({last.strerror or last}){why}")
