"""Human-readable outputs of an arithmetic eval: a markdown table (``report.md``) and a heatmap of exact
match by the two operand lengths (``heatmap.png``, matplotlib Agg backend, no display needed)."""
from __future__ import annotations

import math
import os
from pathlib import Path

from mathwright.io import atomic_write


def markdown_table(metrics: dict) -> str:
    """One row per bucket plus a total row; figures in percent with one decimal.

    >>> m = {"exact_match": 0.5, "digit_match": 0.75, "n": 2, "buckets": {"add:8x8": {"label": "8D+8D",
    ...      "n": 2, "exact_match": 0.5, "digit_match": 0.75}}}
    >>> print(markdown_table(m))
    | task | n | exact match % | digit match % |
    |---|---:|---:|---:|
    | 8D+8D | 2 | 50.0 | 75.0 |
    | **all** | 2 | 50.0 | 75.0 |
    """
    rows = ["| task | n | exact match % | digit match % |", "|---|---:|---:|---:|"]
    for b in metrics["buckets"].values():
        rows.append(f"| {b['label']} | {b['n']} | {100 * b['exact_match']:.1f} | {100 * b['digit_match']:.1f} |")
    rows.append(f"| **all** | {metrics['n']} | {100 * metrics['exact_match']:.1f} | {100 * metrics['digit_match']:.1f} |")
    return "\n".join(rows)


def write_report(path: str | os.PathLike, metrics: dict) -> None:
    """``report.md``: what was evaluated, then the table."""
    head = (f"# Arithmetic eval\n\n- model: `{metrics.get('model')}`\n- format: `{metrics.get('format')}`\n"
            f"- suite: `{metrics.get('suite')}` (seed {metrics.get('seed')}, {metrics.get('n_per_bucket')} per bucket)\n"
            f"- exact match: full canonical answer (sign, quotient and remainder; `q R 0` counts as `q`); "
            f"digit match: 1 - CER (Levenshtein on the answer characters, clipped at 0)\n\n")
    with atomic_write(path) as f:
        f.write(head + markdown_table(metrics) + "\n")


def write_heatmap(path: str | os.PathLike, metrics: dict) -> None:
    """One panel per operation: exact match (%) on a grid of (digits of a, digits of b)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_op: dict[str, list[dict]] = {}
    for b in metrics["buckets"].values():
        by_op.setdefault(b["op"], []).append(b)
    ops = list(by_op) or ["none"]
    fig, axes = plt.subplots(1, len(ops), figsize=(4.2 * len(ops), 3.8), squeeze=False)
    for ax, op in zip(axes[0], ops):
        cells = by_op.get(op, [])
        las = sorted({c["digits"][0] for c in cells}) or [1]
        lbs = sorted({c["digits"][1] for c in cells}) or [1]
        grid = [[math.nan] * len(lbs) for _ in las]
        for c in cells:
            grid[las.index(c["digits"][0])][lbs.index(c["digits"][1])] = 100 * c["exact_match"]
        im = ax.imshow(grid, vmin=0, vmax=100, cmap="viridis", origin="lower", aspect="auto")
        ax.set_xticks(range(len(lbs)), [str(x) for x in lbs])
        ax.set_yticks(range(len(las)), [str(x) for x in las])
        ax.set_xlabel("digits of b")
        ax.set_ylabel("digits of a")
        ax.set_title(f"{op}: exact match %")
        if len(las) * len(lbs) <= 64:  # numbers stay legible on small grids only
            for i, row in enumerate(grid):
                for j, v in enumerate(row):
                    if not math.isnan(v):
                        ax.text(j, i, f"{v:.0f}", ha="center", va="center", color="w" if v < 60 else "k", fontsize=8)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(path).with_name(f".{Path(path).name}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)  # atomic: a kill never leaves a half-written png
