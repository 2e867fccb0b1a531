"""Trainer callbacks: the loss curve as CSV (``OUT/loss.csv``, safe across resume and multi-process runs) and a
wall-clock training budget."""
from __future__ import annotations

import csv
import time
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
        self.start = 0.0
        self.tokens = 0.0  # tokens trained on in this run (all processes), at the last logging step ...
        self.seconds = 0.0  # ... and the training wall time up to that step: tokens/s = tokens / seconds

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.start = time.monotonic()
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
        if logs and "num_tokens" in logs:  # also in the end-of-training log, which has no loss row
            self.tokens, self.seconds = float(logs["num_tokens"]), time.monotonic() - self.start
        if not state.is_world_process_zero or not logs or not ({"loss", "eval_loss"} & set(logs)):
            return
        row = {k: logs.get(k, "") for k in COLUMNS}
        row.update(step=state.global_step, epoch=round(state.epoch or 0.0, 4), world_size=args.world_size)
        with open(self.path, "a", newline="", encoding="utf-8") as f:
            csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore").writerow(row)


class TimeBudget(TrainerCallback):
    """Stop training cleanly (final save included) once ``minutes`` of wall time have passed since
    ``on_train_begin``; CPU benchmarks compare what a model reaches within a fixed budget."""

    def __init__(self, minutes: float) -> None:
        self.seconds = minutes * 60.0
        self.start = 0.0

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.start = time.monotonic()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if time.monotonic() - self.start >= self.seconds:
            control.should_training_stop = True
            control.should_save = True
