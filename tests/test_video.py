"""facesel.video.open_source: files, image folders, cameras and URLs as (frame, timestamp) streams."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import facesel
import numpy as np
import pytest
from facesel.video import DEFAULT_FOLDER_FPS, open_source


@pytest.fixture(scope="module")
def videos(shared_data):
    return shared_data / "videos"


def test_video_file_frames_and_timestamps(videos):
    path = videos / "arcade_walkers_1080p.mp4"
    source = open_source(path, every=2, max_frames=4)
    assert source.kind == "file" and source.fps == pytest.approx(25.0) and len(source) == 4
    got = list(source)
    assert len(got) == 4
    capture = cv2.VideoCapture(str(path))
    reference = [capture.read()[1] for _ in range(7)]
    capture.release()
    for k, (frame, stamp) in enumerate(got):
        assert frame.shape == (1080, 1920, 3) and frame.dtype == np.uint8
        assert np.array_equal(frame, reference[2 * k])  # every=2 keeps frames 0, 2, 4, 6
        assert stamp == pytest.approx(2 * k / 25.0, abs=1e-3)


def test_video_file_length_counts_every_and_max_frames(videos):
    source = open_source(videos / "intel_head_pose_female.gif", every=3)
    assert len(source) == len(list(source)) == 8  # 23 frames, one in three: 0, 3, ..., 21


def test_image_folder_is_read_in_natural_order(videos, tmp_path):
    originals = sorted((videos / "otb_girl" / "img").glob("*.jpg"))[:11]
    # Names whose plain string order differs from their numeric order.
    for k, path in enumerate(originals):
        shutil.copy(path, tmp_path / f"frame{k}.jpg")
    (tmp_path / "notes.txt").write_text("not an image")
    source = open_source(tmp_path, every=1)
    assert source.kind == "folder" and len(source) == 11 and source.fps == DEFAULT_FOLDER_FPS
    for k, (frame, stamp) in enumerate(source):
        assert np.array_equal(frame, cv2.imread(str(originals[k])))
        assert stamp == pytest.approx(k / DEFAULT_FOLDER_FPS)


def test_image_folder_every_and_fps(videos):
    source = open_source(videos / "otb_girl" / "img", every=100, fps=10.0)
    stamps = [stamp for _, stamp in source]
    assert stamps == pytest.approx([0.0, 10.0, 20.0, 30.0, 40.0])


def test_missing_input_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing_here"):
        open_source(tmp_path / "nothing_here.mp4")


def test_unreadable_video_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"this is not a video" * 100)
    with pytest.raises(ValueError, match="broken.mp4"):
        open_source(bad)


def test_folder_without_images_is_a_clear_error(tmp_path):
    (tmp_path / "readme.txt").write_text("nothing")
    with pytest.raises(ValueError, match="no images"):
        open_source(tmp_path)


def test_unreadable_image_in_folder_names_the_file(videos, tmp_path):
    shutil.copy(sorted((videos / "otb_girl" / "img").glob("*.jpg"))[0], tmp_path / "a.jpg")
    (tmp_path / "b.jpg").write_bytes(b"not a jpeg")
    frames = iter(open_source(tmp_path))
    next(frames)
    with pytest.raises(ValueError, match="b.jpg"):
        next(frames)


def test_absent_camera_and_unreachable_url_are_clear_errors():
    with pytest.raises(ValueError, match="camera"):
        open_source("97")
    # Port 9 (discard) on the loopback refuses at once; nothing leaves the machine.
    with pytest.raises(ValueError, match="url"):
        open_source("http://127.0.0.1:9/stream.mjpg")


@pytest.mark.parametrize("settings", [{"every": 0}, {"every": 1.5}, {"max_frames": 0}, {"fps": -1.0}])
def test_bad_settings(videos, settings):
    with pytest.raises(ValueError):
        open_source(videos / "intel_head_pose_female.gif", **settings)


def test_bad_source_type():
    with pytest.raises(TypeError):
        open_source(3.5)


def _mixed_folder(videos, folder):
    """Three OTB frames (128x96), the third halved: a folder of photos of different sizes."""
    files = sorted((videos / "otb_girl" / "img").glob("*.jpg"))[:3]
    for file in files[:2]:
        shutil.copy(file, folder / file.name)
    image = cv2.imread(str(files[2]))
    cv2.imwrite(str(folder / files[2].name), cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2)))
    return files[2].name


def test_image_folder_of_mixed_sizes_names_the_odd_image(videos, tmp_path):
    # Before: the frames went through, and the detection schedule's cv2.absdiff failed on them.
    odd = _mixed_folder(videos, tmp_path)
    frames = iter(open_source(tmp_path))
    next(frames), next(frames)
    with pytest.raises(ValueError, match=rf"{odd} is 64x48 pixels but the first image, .* is 128x96"):
        next(frames)


@pytest.mark.parametrize("source", [""])
def test_empty_source_is_refused_not_the_current_folder(source):
    # Before: Path("") is ".", and "folder . holds no images" (or the current folder's images) followed.
    with pytest.raises(ValueError, match="source must be a path"):
        open_source(source)


@pytest.mark.parametrize("source", ["-1", "-2", "np.int64(-1)", "2**31", "'99999999999'"])
def test_a_webcam_index_out_of_range_is_refused_not_a_crash(source):
    # Before: open_source(-1) reached cv2.VideoCapture(-1), whose V4L2 backend took it as "any
    # camera" and died with SIGSEGV on a machine without one; 2**31 was an OpenCV overload error.
    # In a child process: the old code killed the interpreter.
    code = f"import numpy as np\nfrom facesel.video import open_source\nopen_source({source})"
    env = {**os.environ, "PYTHONPATH": str(Path(facesel.__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1, (done.returncode, done.stderr[-500:])
    assert "ValueError: source: a webcam index must be in [0, 2147483647]" in done.stderr


def test_a_digit_that_is_not_a_number_is_a_path_not_a_crash(tmp_path):
    # "²".isdigit() is True but int("²") fails: it was "invalid literal for int()".
    with pytest.raises(FileNotFoundError, match="input not found: ²"):
        open_source("²")


@pytest.mark.parametrize("fps", [float("inf"), float("nan"), 0.0])
def test_a_folder_rate_must_be_finite(videos, fps):
    # Before: fps=inf was taken, and every frame of a folder had timestamp 0.
    with pytest.raises(ValueError, match="fps must be a finite positive number"):
        open_source(videos / "otb_girl" / "img", fps=fps)
