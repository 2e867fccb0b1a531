"""Trainer callbacks: the loss curve as CSV (``OUT/loss.csv``, safe across resume and multi-process runs), a
wall-clock training budget, a progress line (step, loss, tokens/s, ETA) and a per-phase step timer (where the CPU
time goes: data / forward / backward / optimizer)."""
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


def _clock(seconds: float) -> str:
    """``3725`` -> ``'1h02m'``, ``95`` -> ``'1m35s'``."""
    s = int(max(0.0, seconds))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


class Progress(TrainerCallback):
    """One line per logging step on the main process: ``step 120/1000 loss 0.412 tok/s 213 elapsed 9m12s ETA
    1h10m``. Rates count this run only (a resumed run restarts the clock at its checkpoint); the ETA is to
    ``max_steps`` at this run's wall-clock pace, or to the wall-clock budget (``minutes``) when that ends first.
    tokens/s counts the time inside optimizer steps only, so evaluations and saves between steps do not
    dilute it.

    Tokens are the Trainer's ``num_input_tokens_seen`` (``include_num_input_tokens_seen``, kept across
    resumes) when tracked, else TRL's ``num_tokens`` log field."""

    def __init__(self, minutes: float | None = None, printer: Any = None) -> None:
        self.minutes = minutes
        self.printer = printer or (lambda line: print(line, flush=True))
        self.start = 0.0
        self.step0 = 0
        self.tokens0 = 0.0
        self.in_steps = self._step_start = 0.0
        self.lines: list[str] = []

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.start, self.step0 = time.monotonic(), state.global_step
        self.tokens0 = float(getattr(state, "num_input_tokens_seen", 0) or 0)
        self.in_steps = 0.0

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._step_start = time.monotonic()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.in_steps += time.monotonic() - self._step_start

    def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero or not logs or "loss" not in logs:
            return
        elapsed = time.monotonic() - self.start
        done = state.global_step - self.step0
        seen = float(getattr(state, "num_input_tokens_seen", 0) or 0)
        tokens = seen - self.tokens0 if seen else float(logs.get("num_tokens", 0) or 0)
        parts = [f"step {state.global_step}/{state.max_steps}", f"loss {logs['loss']:.4f}"]
        if tokens and self.in_steps > 0:
            parts.append(f"tok/s {tokens / self.in_steps:.1f}")
        parts.append(f"elapsed {_clock(elapsed)}")
        if done > 0 and state.max_steps:
            eta = (state.max_steps - state.global_step) * elapsed / done
            if self.minutes and self.minutes * 60 - elapsed < eta:
                parts.append(f"ETA {_clock(eta)} (this chunk's budget ends in {_clock(self.minutes * 60 - elapsed)})")
            else:
                parts.append(f"ETA {_clock(eta)}")
        line = " ".join(parts)
        self.lines.append(line)
        self.printer(line)


PHASES = ("data", "forward", "backward", "optimizer", "other")


class StepTimer(TrainerCallback):
    """Wall time per optimizer step split into phases, from the Trainer's own hooks plus a forward hook:

    - ``data``: previous step end -> ``on_step_begin`` (batch fetch and collation),
    - ``forward``: the outermost model's forward (hooks around it; logits included),
    - ``backward``: the rest of the micro-batches up to ``on_pre_optimizer_step`` (loss, backward, clipping),
    - ``optimizer``: ``on_pre_optimizer_step`` -> ``on_optimizer_step``,
    - ``other``: -> ``on_step_end`` (scheduler, zero_grad, logging).

    ``summary(skip=1)`` averages over steps after the first ``skip`` (warm-up allocations)."""

    def __init__(self) -> None:
        self.steps: list[dict[str, float]] = []
        self._t: dict[str, float] = {}
        self._fwd = 0.0
        self._fwd_start = 0.0
        self._hooks: list[Any] = []

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        self._t["end"] = time.perf_counter()
        if model is not None and not self._hooks:
            self._hooks = [model.register_forward_pre_hook(self._pre), model.register_forward_hook(self._post)]

    def _pre(self, *_: Any) -> None:
        self._fwd_start = time.perf_counter()

    def _post(self, *_: Any) -> None:
        if self._fwd_start:
            self._fwd += time.perf_counter() - self._fwd_start
            self._fwd_start = 0.0

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._t["begin"] = time.perf_counter()
        self._fwd = 0.0

    def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._t["pre"] = time.perf_counter()

    def on_optimizer_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._t["opt"] = time.perf_counter()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        t, now = self._t, time.perf_counter()
        if {"begin", "pre", "opt", "end"} <= set(t):
            self.steps.append({"data": t["begin"] - t["end"], "forward": self._fwd,
                               "backward": t["pre"] - t["begin"] - self._fwd, "optimizer": t["opt"] - t["pre"],
                               "other": now - t["opt"]})
        t["end"] = now

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        for h in self._hooks:
            h.remove()
        self._hooks = []

    def summary(self, skip: int = 1) -> dict[str, Any]:
        """``{"steps": n, "seconds_per_step": s, "phases": {phase: {"seconds": mean, "share": fraction}}}``."""
        rows = self.steps[skip:] if len(self.steps) > skip else self.steps
        if not rows:
            return {"steps": 0, "seconds_per_step": 0.0, "phases": {}}
        mean = {p: sum(r[p] for r in rows) / len(rows) for p in PHASES}
        total = sum(mean.values())
        return {"steps": len(rows), "seconds_per_step": round(total, 4),
                "phases": {p: {"seconds": round(mean[p], 4), "share": round(mean[p] / total, 4) if total else 0.0}
                           for p in PHASES}}
