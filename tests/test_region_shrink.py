"""The fast region shrink (``region_shrink = "fast"``, :func:`facesel.detect.schedule.cut_square`):
a region square is averaged by a whole factor, then shrunk bilinearly, instead of OpenCV's
fractional INTER_AREA. On real 1080p frames it must find the same faces around the tracks as the
area shrink, with boxes mapped back to the same frame pixels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from facesel.boxes import pairwise_iou
from facesel.config import PipelineConfig
from facesel.detect.schedule import cut_square, search_regions
from facesel.selector import default_detector
from facesel.sources.backends import EndOfStream, FileConnection


@pytest.fixture(scope="module")
def arcade_frames(shared_data):
    """The arcade video's 105 (frame, timestamp) pairs, decoded by OpenCV."""
    connection = FileConnection(shared_data / "videos" / "arcade_walkers_1080p.mp4")
    frames = []
    try:
        while True:
            try:
                frames.append(connection.read())  # (frame, the connection's timestamp)
            except EndOfStream:
                break
    finally:
        connection.close()
    return frames


def test_fast_cut_maps_back_to_the_same_frame_pixels(arcade_frames):
    frame = arcade_frames[0][0]
    for x1, y1, x2, y2, shrink in ((500, 300, 800, 600, 160 / 300), (100, 50, 581, 531, 128 / 481),
                                   (0, 0, 150, 150, 0.9), (1700, 900, 1920, 1080, 0.25)):
        area, corner, _ = cut_square(frame, x1, y1, x2, y2, shrink)
        fast, corner_fast, back_fast = cut_square(frame, x1, y1, x2, y2, shrink, fast=True)
        assert fast.flags.c_contiguous and fast.dtype == np.uint8
        assert np.array_equal(corner, corner_fast)
        # the same output size (to a pixel) and the square trimmed by less than one averaged block
        assert abs(fast.shape[0] - area.shape[0]) <= 1 and abs(fast.shape[1] - area.shape[1]) <= 1
        k = max(1, int(1 / shrink))
        assert np.all(np.abs(np.array(fast.shape[1::-1]) * back_fast - [x2 - x1, y2 - y1]) < k)
        # and the picture is close to the area shrink's: measured 1.2-4.1 grey levels apart on
        # average (most for the strongest fractional rest, 481 -> 128: averaged by 3, then 0.8x
        # bilinear); the faces found are what counts (the test below)
        size = area.shape[1::-1]
        same_size = cv2.resize(fast, size, interpolation=cv2.INTER_LINEAR) if fast.shape != area.shape else fast
        apart = np.abs(same_size.astype(np.int16) - area).mean()
        print(f"{x2 - x1} px by {shrink:.3f}: {apart:.2f} grey levels from the area shrink")
        assert apart < 6.0


def test_config_names_the_region_shrinks():
    assert PipelineConfig().region_shrink == "area"  # the default stays what the choice was measured on
    assert PipelineConfig(region_shrink="fast").region_shrink == "fast"
    with pytest.raises(ValueError, match="region_shrink"):
        PipelineConfig(region_shrink="nearest")


def test_fast_region_search_finds_the_faces_the_area_search_finds(arcade_frames):
    # As in the sparse mode: a full-frame detection every 4th frame gives the boxes searched around
    # on the three frames after it.
    detector = default_detector()
    config = PipelineConfig()
    base = config.max_side / 1920
    found_area = found_fast = matched = 0
    worst_iou = 1.0
    for start in range(0, 100, 4):
        boxes = detector.detect(arcade_frames[start][0]).boxes
        for frame, _ in arcade_frames[start + 1 : start + 4]:
            common = {"scale": config.region_scale, "face_px": config.region_face_px,
                      "min_px": config.region_min_px, "base_shrink": base}
            area = search_regions(detector, frame, boxes, **common)
            fast = search_regions(detector, frame, boxes, fast=True, **common)
            found_area += len(area)
            found_fast += len(fast)
            if len(area) and len(fast):
                iou = pairwise_iou(area.boxes, fast.boxes).max(axis=1)
                matched += int((iou >= 0.7).sum())
                worst_iou = min(worst_iou, float(iou.min()))
    print(f"faces around tracks: {found_area} (area shrink) / {found_fast} (fast), {matched} matched at IoU >= 0.7, "
          f"worst IoU {worst_iou:.3f}")
    assert found_area > 150  # 75 frames, up to six faces each
    # The same faces: at most one in a hundred found by one shrink and not the other (a face at
    # YuNet's threshold), every face found by both in the same place.
    assert abs(found_fast - found_area) <= found_area // 100
    assert matched >= min(found_area, found_fast) - found_area // 100


@pytest.mark.xfail(strict=True, reason=(
    "measured after the crowds re-link landed (main e50a8d7): with region_shrink='fast' the "
    "whole pipeline keeps 11 of the exhaustive run's 12 arcade tracks (10 crops in their top "
    "10 %) against 12/12 (12) with the area shrink; before that merge both kept 12/12. The fast "
    "shrink stays a non-default setting; this flips when its agreement is restored"))
def test_the_camera_setting_keeps_the_tracks_of_the_arcade_video(arcade_frames):
    # Through the whole pipeline (the serve camera's context scorer, one stage thread): every
    # snapshot of the area shrink's run has its track among the fast shrink's, and against the
    # exhaustive run the fast shrink keeps no fewer of its tracks nor fewer crops in their top 10 %.
    from facesel import Selector
    from facesel.select.agreement import agreement
    from facesel.serve.pipeline_adapter import make_scorer
    from facesel.sinks import CallbackSink

    kept = {}
    for name, settings in (("area", {}), ("fast", {"region_shrink": "fast"}), ("exhaustive", {"mode": "exhaustive"})):
        config = PipelineConfig(threads=1, **settings)
        kept[name] = []
        with Selector(default_detector(config), make_scorer("context", config), config=config,
                      sinks=[CallbackSink(kept[name].append)]) as selector:
            # the connection's own timestamps: the finaliser's grace periods are in stream time
            for _ in selector.run(iter(arcade_frames)):
                pass
            if name != "exhaustive":
                assert selector.work["regions"] > 500  # the region search ran (up to six faces a frame)
    versus = {name: agreement(kept[name], kept["exhaustive"]) for name in ("area", "fast")}
    good = {name: int((a.ranks <= 0.1).sum()) for name, a in versus.items()}
    print({name: f"{a.tracks} / {a.reference_tracks} snapshots, {good[name]} in the exhaustive top 10 %"
           for name, a in versus.items()})
    assert len(kept["area"]) >= 10
    assert agreement(kept["area"], kept["fast"]).unmatched == 0
    assert versus["fast"].tracks - versus["fast"].unmatched >= versus["area"].tracks - versus["area"].unmatched
    assert good["fast"] >= good["area"]
