"""Trainer callbacks: the loss curve as CSV (``OUT/loss.csv``), safe across resume and multi-process runs."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

COLUMNS = ("step", "epoch", "loss", "eval_loss", "learning_rate", "grad_norm", "num_tokens", "world_size")


class LossCSV(TrainerCallback):
    """Append one row per logging step to ``path`` (main process only).

    On a resumed run, rows logged after the checkpoint we resume from (work the kill threw away) are
    dropped first, so the file never holds a step twice.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        kept: list[dict[str, str]] = []
        if self.path.exists():
            with open(self.path, newline="", encoding="utf-8") as f:
                kept = [r for r in csv.DictReader(f) if r.get("step", "").isdigit() and int(r["step"]) <= state.global_step]
        with open(self.path, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
            w.writeheader()
            w.writerows(kept)

    def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero or not logs or not ({"loss", "eval_loss"} & set(logs)):
            return
        row = {k: logs.get(k, "") for k in COLUMNS}
        row.update(step=state.global_step, epoch=round(state.epoch or 0.0, 4), world_size=args.world_size)
        with open(self.path, "a", newline="", encoding="utf-8") as f:
            csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore").writerow(row)
