"""Small SVG drawings made on the server from numbers only (no script, no third-party library):
the track's quality over time with the chosen frame marked."""

from __future__ import annotations

import math

WIDTH, HEIGHT, PAD = 520, 180, 36


def _finite(values) -> list[float | None]:
    return [float(v) if v is not None and math.isfinite(float(v)) else None for v in values]


def quality_svg(frame_indices: list[int], qualities: list[float | None], best_frame: int,
                best_quality: float | None) -> str:
    """An SVG line plot of ``qualities`` against ``frame_indices`` (same length, frame order); the
    chosen frame ``best_frame`` is marked by a vertical line and a dot. Returns SVG markup built
    only from numbers (safe to embed)."""
    points = [(int(f), q) for f, q in zip(frame_indices, _finite(qualities)) if q is not None]
    if not points:
        return '<svg class="plot" viewBox="0 0 520 40" role="img"><text x="8" y="24">no quality values</text></svg>'
    frames = [f for f, _ in points] + [int(best_frame)]
    values = [q for _, q in points]
    if best_quality is not None and int(best_frame) not in dict(points):
        values.append(best_quality)
    f0, f1 = min(frames), max(frames)
    q0, q1 = min(values), max(values)
    f1, q1 = (f1 if f1 > f0 else f0 + 1), (q1 if q1 > q0 else q0 + 1.0)

    def x(f):
        return PAD + (f - f0) / (f1 - f0) * (WIDTH - 2 * PAD)

    def y(q):
        return HEIGHT - PAD - (q - q0) / (q1 - q0) * (HEIGHT - 2 * PAD)

    line = " ".join(f"{x(f):.1f},{y(q):.1f}" for f, q in points)
    bx = x(int(best_frame))
    parts = [f'<svg class="plot" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="quality over the track">',
             f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>',
             f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>',
             f'<polyline points="{line}" fill="none" stroke="#1f5fa8" stroke-width="2"/>',
             f'<line x1="{bx:.1f}" y1="{PAD}" x2="{bx:.1f}" y2="{HEIGHT - PAD}" stroke="#c0392b" '
             'stroke-dasharray="4 3"/>']
    # The dot sits on the curve at the chosen frame: the record's own quality may be another score
    # (the selector's final pick score) than the per-frame values plotted.
    on_curve = dict(points).get(int(best_frame))
    marked = on_curve if on_curve is not None else best_quality
    if marked is not None and math.isfinite(marked):
        parts.append(f'<circle cx="{bx:.1f}" cy="{y(marked):.1f}" r="5" fill="#c0392b"/>')
    parts += [f'<text x="{PAD}" y="{HEIGHT - 10}" font-size="12">frame {f0}</text>',
              f'<text x="{WIDTH - PAD}" y="{HEIGHT - 10}" font-size="12" text-anchor="end">frame {f1}</text>',
              f'<text x="{bx:.1f}" y="{PAD - 8}" font-size="12" text-anchor="middle" fill="#c0392b">chosen: '
              f'frame {int(best_frame)}</text>',
              f'<text x="4" y="{PAD}" font-size="12">{q1:.3g}</text>',
              f'<text x="4" y="{HEIGHT - PAD}" font-size="12">{q0:.3g}</text>', "</svg>"]
    return "".join(parts)
