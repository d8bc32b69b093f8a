"""Sinks that write files in the clear: plaintext snapshots (testing only) and report figures."""

from __future__ import annotations

from facesel.plaintext_out import PlaintextWriter
from facesel.report import ReportWriter


class PlaintextSink:
    """FOR TESTING ONLY: each result as an unencrypted PNG + a line of ``tracks.jsonl`` in ``folder``
    (:class:`facesel.plaintext_out.PlaintextWriter`; ``name``: what its errors call ``folder``,
    the argument's name unless the command line gives its flag)."""

    def __init__(self, folder, *, name: str = "folder"):
        self.writer = PlaintextWriter(folder, name=name)

    def write(self, result) -> None:
        """Write the result's snapshot PNG (and top / clip files) and its line of ``tracks.jsonl``."""
        self.writer.write(result)

    def tick(self, now: float) -> None:
        """Nothing timed to do."""
        pass

    def close(self) -> None:
        """Close ``tracks.jsonl``."""
        self.writer.close()


class ReportSink:
    """Quality-over-time plots per track in ``folder``; crop strips (face pixels) only with
    ``with_faces`` (:class:`facesel.report.ReportWriter`; ``name`` as for :class:`PlaintextSink`)."""

    def __init__(self, folder, with_faces: bool = False, *, name: str = "folder"):
        self.writer = ReportWriter(folder, with_faces=with_faces, name=name)

    def write(self, result) -> None:
        """Plot the result's quality over time (and its crop strip with ``with_faces``)."""
        self.writer.write(result)

    def tick(self, now: float) -> None:
        """Nothing timed to do."""
        pass

    def close(self) -> None:
        """Nothing to close: each plot is written whole by :meth:`write`."""
        pass
