"""Prometheus metrics of ``facesel serve``, read from the cameras at scrape time.

One collector walks the running cameras when ``/metrics`` is scraped, so a removed camera's
series disappear with it and nothing is updated on the hot path. The counters run from the
service's start: a camera restarted after an error or changed by a reload goes on counting from
where it was (:meth:`facesel.serve.camera.Camera.counters`), so no reload looks like a reset. Only counts, rates and
durations are exported: no pixels, no quality scores, no boxes, nothing about a face.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.registry import CollectorRegistry

PREFIX = "facesel"

WORK_KINDS = {"full_detections": "full_frame_detections", "scene_changes": "scene_changes",
              "full_postponed": "full_frame_detections_postponed",
              "regions": "squares_searched", "regions_skipped": "squares_skipped",
              "regions_lost": "squares_lost", "full_ahead": "full_frame_detections_ahead",
              "full_fine": "full_frame_detections_fine", "full_coarse": "full_frame_detections_coarse", "seen": "crops_seen",
              "gated": "crops_gated", "screened": "crops_screened", "aligned": "crops_aligned",
              "scored": "crops_fully_scored"}
"""``facesel_pipeline_work_total``'s ``kind`` label for each key of :attr:`facesel.Selector.work`."""


class CameraCollector:
    """A prometheus_client collector over ``cameras()`` (a callable giving the Camera objects)."""

    def __init__(self, cameras: Callable[[], list]):
        self._cameras = cameras

    def describe(self):
        """No fixed families: they depend on the cameras at scrape time."""
        return []  # families depend on the cameras at scrape time

    def collect(self):
        """The metric families of every camera now (counters, gauges, per-stage seconds)."""
        cams = list(self._cameras())
        label = ["camera"]

        def family(cls, name, doc, extra=()):
            return cls(f"{PREFIX}_{name}", doc, labels=label + list(extra))

        received = family(CounterMetricFamily, "frames_received", "Frames delivered by the source")
        processed = family(CounterMetricFamily, "frames_processed", "Frames run through the pipeline")
        dropped = family(CounterMetricFamily, "frames_dropped",
                         "Frames replaced by a newer one before the pipeline took them (live sources)")
        skipped = family(CounterMetricFamily, "frames_skipped",
                         "Frames the decoder skipped while the camera was behind (skip_when_behind; also in frames_dropped)")
        faces = family(CounterMetricFamily, "faces_detected", "Face detections (all frames)")
        sealed = family(CounterMetricFamily, "records_sealed", "Snapshots sealed into the vault")
        reconnects = family(CounterMetricFamily, "source_reconnects", "Successful reconnections of the source")
        failures = family(CounterMetricFamily, "source_connect_failures", "Failed connection attempts")
        stalls = family(CounterMetricFamily, "source_stalls", "Connections dropped by the stall watchdog")
        restarts = family(CounterMetricFamily, "pipeline_restarts", "Camera pipeline restarts after an error")
        gap_closed = family(CounterMetricFamily, "tracks_closed_on_gap",
                            "Tracks closed because the stream had a gap (reconnection, file loop)")
        lost = family(CounterMetricFamily, "tracks_lost",
                      "Closed tracks never sealed: their seal failed and they were pushed out of the held ones "
                      "(serve.camera.Camera.HELD_LIMIT) or still held when the camera stopped")
        held = family(GaugeMetricFamily, "tracks_held",
                      "Closed tracks whose seal failed, kept in memory until the vault writes again")
        stage = family(CounterMetricFamily, "stage_seconds", "Seconds spent per pipeline stage", ["stage"])
        # What the sparse mode did, so that a camera's settings can be judged from its metrics
        # (e.g. scene changes forcing full-frame detections, or every crop being fully scored).
        work = family(CounterMetricFamily, "pipeline_work", "Work done by the pipeline, by kind", ["kind"])
        fps = family(GaugeMetricFamily, "frames_per_second", "Frames processed per second (recent)")
        open_tracks = family(GaugeMetricFamily, "open_tracks", "Confirmed tracks open now")
        queue = family(GaugeMetricFamily, "queue_depth", "Frames waiting between stages", ["queue"])
        age = family(GaugeMetricFamily, "last_frame_age_seconds", "Seconds since the source's last frame")
        up = family(GaugeMetricFamily, "camera_up", "1 when the camera is receiving and processing frames "
                    "(and its last seal, if one failed, has succeeded since)")
        latency = family(SummaryMetricFamily, "frame_processing_seconds",
                         "Seconds from the source's hand-over of a frame to its decision (waiting included)")
        # The load governor (facesel.serve.scheduler): a camera that cannot keep up detects on
        # the full frame less often before it drops frames.
        every = family(GaugeMetricFamily, "detect_every", "Frames between full-frame detections now")
        changes = family(CounterMetricFamily, "schedule_changes", "Detection schedule made coarser or finer under load",
                         ["direction"])
        tiers = family(GaugeMetricFamily, "two_tier_detection",
                       "1 while full-frame detections run in two tiers (coarse_max_side, or the governor's first step)")
        tier_changes = family(CounterMetricFamily, "schedule_tier_changes",
                              "Of the schedule changes, those that turned two-tier detection on or off", ["direction"])
        for cam in cams:
            name = [cam.config.name]
            counts = cam.counters()  # since the service started: across restarts and reloads
            adapter = cam.adapter
            received.add_metric(name, counts.get("frames_received", 0))
            dropped.add_metric(name, counts.get("frames_dropped", 0))
            skipped.add_metric(name, counts.get("frames_skipped", 0))
            reconnects.add_metric(name, counts.get("reconnects", 0))
            failures.add_metric(name, counts.get("connect_failures", 0))
            stalls.add_metric(name, counts.get("stalls", 0))
            processed.add_metric(name, counts["processed"])
            faces.add_metric(name, counts.get("faces", 0))
            sealed.add_metric(name, counts["sealed"])
            restarts.add_metric(name, counts["pipeline_restarts"])
            gap_closed.add_metric(name, counts["flushed_on_gap"])
            lost.add_metric(name, counts["tracks_lost"])
            held.add_metric(name, counts["tracks_held"])
            for key, value in sorted(counts.items()):
                if key.startswith("stage:"):
                    stage.add_metric(name + [key[6:]], value)
                elif key.startswith("work:"):
                    work.add_metric(name + [WORK_KINDS.get(key[5:], key[5:])], value)
            fps.add_metric(name, cam.frames_per_second())
            open_tracks.add_metric(name, adapter.open_tracks if adapter else 0)
            source = cam.source
            queue.add_metric(name + ["source"], source.pending if source is not None else 0)
            frame_age = source.frame_age() if source is not None else None
            age.add_metric(name, float("nan") if frame_age is None else frame_age)
            up.add_metric(name, 1.0 if cam.health()["up"] else 0.0)
            latency.add_metric(name, counts["processed"], counts["frame_seconds_sum"])
            if adapter is not None:
                every.add_metric(name, adapter.selector.schedule.every)
                tiers.add_metric(name, 1.0 if adapter.selector.detect_stage.coarse_side else 0.0)
            # from counters(): the steps of earlier pipelines (restarts, reloads) are in them
            changes.add_metric(name + ["coarser"], counts.get("schedule:coarser", 0))
            changes.add_metric(name + ["finer"], counts.get("schedule:finer", 0))
            tier_changes.add_metric(name + ["on"], counts.get("schedule:tiers_on", 0))
            tier_changes.add_metric(name + ["off"], counts.get("schedule:tiers_off", 0))
        yield from (received, processed, dropped, skipped, faces, sealed, reconnects, failures, stalls, restarts,
                    gap_closed, lost, held, stage, work, fps, open_tracks, queue, age, up, latency, every, changes, tiers,
                    tier_changes)


def make_registry(cameras: Callable[[], list]) -> CollectorRegistry:
    """A Prometheus registry holding one :class:`CameraCollector` over ``cameras()``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CameraCollector(cameras))
    return registry
