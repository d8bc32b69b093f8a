"""The quiet fade's extra work, counted (calls, not time: the machine is shared): on the signers'
and LivePortrait's `fade` interviews, how often the scene cue runs its shift search
(``moved_change``), ``blend_residual`` and the quiet fade's test, under today's rule and with
``SwitchRule(fade_quiet=8)`` (docs/prereg_dissolve28.md).

    nice -n 5 python experiments/dissolve28_cost.py
"""

from __future__ import annotations

from unittest import mock


def main() -> int:
    import cv2

    from facesel.data import data_root
    from facesel.eval.intercut_variants import variant_material
    from facesel.track_cues import scene as sc
    from facesel.track_cues.rule import SwitchRule

    cv2.setNumThreads(1)
    counts: dict = {}

    def wrap(name, fn):
        def counted(*a, **k):
            counts[name] = counts.get(name, 0) + 1
            return fn(*a, **k)
        return counted

    frames_total = 0
    for _, _, _, frames, _, _ in variant_material(data_root(), "fade", ["liveportrait", "signers"], ("interview",)):
        for label, rule in (("today", SwitchRule()), ("quiet", SwitchRule(fade_quiet=8.0))):
            with mock.patch.object(sc, "moved_change", wrap(label + ".moved_change", sc.moved_change)), \
                 mock.patch.object(sc, "blend_residual", wrap(label + ".blend_residual", sc.blend_residual)), \
                 mock.patch.object(sc.SceneChange, "_quiet_fade", wrap(label + "._quiet_fade", sc.SceneChange._quiet_fade)):
                scene = sc.SceneChange(rule)
                for frame in frames:
                    scene.update(frame)
        frames_total += len(frames)
    print("frames", frames_total, counts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
