"""``facesel run``'s outputs (``--vault``, ``--plaintext-out``, ``--report``), each named by its flag.

A full disk (or a folder made read-only mid-run) failed the run with the writer's own words:
``[Errno 28] No space left on device`` naming no flag and no file (``--report``), a libpng line
(``--plaintext-out``), or ``could not store record X ...; nothing was stored`` (``--vault``), which
read as if the whole run had stored nothing although the snapshots sealed before it were in the
vault; and a full ``--report`` folder stopped the run in the middle of a batch of results, so the
vault never got the rest of the video's people (ux17). Each output is wrapped here: at its first
failure it records why and takes nothing more (a full disk stays full), while the other outputs
go on with every result; the run then stops reading (:attr:`RunSession.halted`), the tracks open
at that point are closed and delivered, and :func:`stop_line` says which output failed and what
each one kept and missed.
"""

from __future__ import annotations


class OutputFailed(RuntimeError):
    """An output of ``facesel run`` could not be written; the run stopped there."""


class NamedOutput:
    """A sink that names its flag and folder when it fails, and counts what it kept and missed.

    Parameters
    ----------
    sink : facesel.sinks.base.Sink
    flag : str
        The command line's flag for this output (``--vault``).
    folder : path
        The flag's value, for the messages.
    """

    def __init__(self, sink, flag: str, folder):
        self.sink = sink
        self.flag = flag
        self.folder = str(folder)
        self.kept = 0
        self.missed = 0
        self.error: str | None = None

    @property
    def failed(self) -> bool:
        """Whether a write to this output has failed (``error`` says why)."""
        return self.error is not None

    def write(self, result) -> None:
        """Write ``result`` to the sink (counted in ``kept``); after a failure, or when this write fails,
        count it in ``missed`` instead and go on (the other outputs keep going).
        """
        if self.failed:  # a full disk stays full: skipped, counted, the other outputs go on
            self.missed += 1
            return
        try:
            self.sink.write(result)
        except (OSError, RuntimeError) as err:  # the vault's VaultWriteError is a RuntimeError
            self.missed += 1
            self.error = _reason(err)
            return
        self.kept += 1

    def tick(self, now: float) -> None:
        """Pass the tick on while the output has not failed."""
        if not self.failed:
            self.sink.tick(now)

    def close(self) -> None:
        """Close the sink; a failed output's error on closing is not raised again (its first error tells)."""
        try:
            self.sink.close()
        except OSError:
            if not self.failed:
                raise
            # A failed output's last buffered line cannot be flushed either: its first error is the one to tell.


def _reason(err: BaseException) -> str:
    """The error in the writer's words; an OSError's strerror and file (``[Errno 28] ...`` named none)."""
    if isinstance(err, OSError) and err.strerror:
        where = f" ({err.filename})" if err.filename else ""
        return f"{err.strerror}{where}"
    return str(err)


def stop_line(outputs: list[NamedOutput], frames: int, expected: int | None) -> str:
    """The run's last line when an output failed: which one, why, and what every output holds.

    Parameters
    ----------
    outputs : the run's wrapped outputs, in the order the results reach them.
    frames : frames that went through the pipeline before the stop.
    expected : frames the input announced, or None.
    """
    failed = "; ".join(f"{out.flag} {out.folder} could not be written ({out.error})" for out in outputs if out.failed)
    cut_short = expected is None or frames < expected
    of = f" of {expected}" if expected else ""
    lead = f"the run stopped after {frames}{of} frames" if cut_short else f"the input was read to its end ({frames} frames)"
    parts = [f"{lead}, but {failed}"]
    for out in outputs:
        noun = "snapshot(s) sealed" if out.flag == "--vault" else "track(s) written"
        missed = f", {out.missed} could not be" if out.missed else ""
        parts.append(f"{out.flag}: {out.kept} {noun} in this run{missed}")
    if any(out.flag == "--vault" and out.kept for out in outputs):
        parts.append("what was sealed is intact ('facesel audit verify' checks it)")
    if cut_short:
        parts.append("the rest of the input was not read")
    parts.append("free space (or fix the folder) before the next run")
    return "; ".join(parts)


def interrupted_line(outputs: list[NamedOutput], frames: int, expected: int | None) -> str:
    """The line of a run a second Ctrl-C stopped at once: before, it said only "interrupted", and
    nothing told whether the people in view were sealed (ux17). The with-block's flush has run by
    then (unless a third Ctrl-C cut it): the counts say what each output holds."""
    of = f" of {expected}" if expected else ""
    held = "; ".join(f"{out.flag}: {out.kept} {'snapshot(s) sealed' if out.flag == '--vault' else 'track(s) written'}"
                     " in this run" for out in outputs)
    return (f"INTERRUPTED by a second Ctrl-C after {frames}{of} frames: stopped at once, the rest of the input "
            f"not read; the tracks open then were closed and delivered as far as the stop allowed"
            + (f"; {held}" if held else "") + " (exit 130)")
