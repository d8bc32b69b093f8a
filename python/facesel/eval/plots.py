"""Error-versus-reject figures (like the paper's Figs. 5 and 6) and the EDC figure, as PNG files.

Only curves are drawn: no face image is ever written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facesel.eval.analysis import GRID


def plot_protocol(result, path: Path, subtitle: str = "") -> Path:
    """Draw one protocol's curves (methods solid, random dashed, ideal dotted) to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 4.8), dpi=110)
    cmap = plt.get_cmap("tab10")
    methods = [n for n in result.curves if n not in ("random", "ideal")]
    for i, name in enumerate(methods):
        gain = result.rows[name].get("gain@0.2", float("nan"))
        ax.step(GRID, result.curves[name], where="post", color=cmap(i % 10), lw=1.6, label=f"{name} (gain@20% {gain:.2f})")
    ax.step(GRID, result.curves["random"], where="post", color="0.4", ls="--", lw=1.4, label="random (mean of seeds)")
    ax.step(GRID, result.curves["ideal"], where="post", color="k", ls=":", lw=1.6, label="ideal (by true distance)")
    ax.axvline(0.2, color="0.8", lw=0.8)
    ax.axvline(0.3, color="0.8", lw=0.8)
    ax.set_xlim(0, GRID[-1])
    top = max(float(np.max(c)) for c in result.curves.values())
    ax.set_ylim(0, top * 1.05 if top > 0 else 1)
    ax.set_xlabel("fraction of comparisons rejected (lowest quality first)")
    ax.set_ylabel("FNMR of the remaining comparisons")
    ax.set_title(result.title + ("\n" + subtitle if subtitle else ""), fontsize=8)
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
