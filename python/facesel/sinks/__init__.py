"""Where results go: each sink has ``write(result)``, ``tick(now)`` and ``close()``.

- :class:`VaultSink`: seals every result into a :class:`facesel.vault.Vault` and runs its
  retention purge (the deployment's sink).
- :class:`PlaintextSink`: unencrypted PNGs + ``tracks.jsonl``, FOR TESTING ONLY.
- :class:`ReportSink`: quality-over-time plots (and crop strips when allowed).
- :class:`CallbackSink`: calls a function with each result.
"""

from facesel.sinks.base import CallbackSink, Sink, check_sinks
from facesel.sinks.files import PlaintextSink, ReportSink
from facesel.sinks.vault import VaultSink

__all__ = ["CallbackSink", "PlaintextSink", "ReportSink", "Sink", "VaultSink", "check_sinks"]
