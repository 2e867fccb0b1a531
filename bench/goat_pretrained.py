"""Goat with a pretrained LM: Gemma 3 270M fine-tuned on ``mathwright generate goat`` data, evaluated with
``mathwright eval arith --format goat`` on fresh problems, with a learning curve. Writes the RESULTS section
"Goat with a pretrained LM" and docs/goat_pretrained_curve.png.

    # a dedicated chunk (rerun the same line to continue from the last checkpoint; the curve keeps its points)
    OMP_NUM_THREADS=2 python bench/goat_pretrained.py --out runs/goat_pretrained --max-minutes 85
    # the LoRA arm, Goat's templates, an add/sub-heavy mix, a few recipe overrides
    python bench/goat_pretrained.py --config configs/goat-gemma3-270m-lora.yaml --template goat \\
        --mix add=0.35,sub=0.35,mul_nm=0.15,div_nm=0.15 --set trainer.learning_rate=1e-3 --out runs/gp_lora
    # where the CPU time goes (a few steps under timers and torch.profiler; nothing else runs)
    python bench/goat_pretrained.py --out runs/goat_pretrained --profile 6
    # smoke
    python bench/goat_pretrained.py --out /tmp/gp --n-train 200 --set trainer.max_steps=4 --eval-every 2 \\
        --quick-n 2 --n-eval 3 --no-results

Phases (each resumes):
1. data   ``mathwright.data.goat.run`` (the ``mathwright generate goat`` job; seeded; one call for Goat's own
          mix, or one per bucket group for ``--mix``), merged and shuffled into OUT/data/train.jsonl; ``--curriculum length`` orders it by
          operand length (the Trainer then reads it in order).
2. train  the recipe (``--config``, ``--set key=value`` overrides) via ``mathwright.train.sft.train``;
          ``--max-minutes`` ends a chunk cleanly (checkpoint + OUT/train/model); a rerun resumes from the
          newest checkpoint (the Trainer's resume_from_checkpoint). Progress lines: step, loss, tokens/s, ETA.
3. curve  at every checkpoint (``--eval-every`` steps) a quick greedy eval (``--quick-n`` problems per task)
          of the in-memory model: OUT/curve.jsonl (step, tokens, CPU seconds, exact/digit per task), OUT/curve.png.
4. eval   once ``max_steps`` is reached (or with ``--finish``): ``--n-eval`` fresh problems per task, greedy,
          through ``run_arith_eval`` (what ``mathwright eval arith --format goat --ops OP --digits AxB`` runs);
          with ``--max-minutes`` it starts in the next invocation, so a chunk stays within its budget. It resumes
          per problem after a kill.
5. report docs/RESULTS.md (unless ``--no-results``) and docs/goat_pretrained_curve.png.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from goat_pretrained_report import overlap, plot_curve, report, tokens_per_record  # noqa: E402
SECTION = "Goat with a pretrained LM"
TASKS = "add:8x8,add:16x16,sub:8x8,sub:16x16,mul:4x4,div:8x4"
# Arguments that define the run: a rerun into the same --out must repeat them (chunks of one run).
RUN_ARGS = ("config", "set", "n_train", "template", "mix", "curriculum", "max_digits", "seed", "tasks", "eval_every",
            "quick_n", "eval_seed")


def generate(out: Path, a: argparse.Namespace, n: int, seed: int, groups: tuple[str, ...] | None = None) -> None:
    """One call of the Goat data job (``mathwright generate goat``; every record checked before it is written)."""
    from mathwright.arith.goat_mix import GROUPS
    from mathwright.data.goat import GoatDataConfig, run

    groups = groups or GROUPS
    print(f"+ data.goat.run(n={n}, seed={seed}, groups={','.join(groups)}, template={a.template}, "
          f"max_digits={a.max_digits}, out={out})", flush=True)
    meta = run(GoatDataConfig(out=out, n=n, seed=seed, max_digits=a.max_digits, groups=groups, template=a.template,
                              progress=False))
    for info in meta["files"].values():
        print(f"wrote {info['records']} records to {out}", flush=True)


def buckets(tasks: str) -> list[Any]:
    """``add:8x8,div:8x4`` -> eval buckets (``--ops add --digits 8x8`` each)."""
    from mathwright.eval.arith_suites import Bucket

    out = []
    for t in tasks.split(","):
        op, shape = t.strip().split(":")
        la, lb = shape.split("x")
        out.append(Bucket(op, int(la), int(lb)))
    return out


def parse_mix(text: str) -> dict[str, float] | None:
    """``goat`` -> None (the reference's shares); ``add=0.4,sub=0.4,mul_nm=0.2`` -> shares per bucket group."""
    from mathwright.arith.goat_mix import GROUPS

    if text == "goat":
        return None
    mix: dict[str, float] = {}
    for item in text.split(","):
        g, _, w = item.partition("=")
        if g.strip() not in GROUPS or not w:
            raise SystemExit(f"error: --mix {text!r}: expected GROUP=SHARE,... with groups from {', '.join(GROUPS)}")
        mix[g.strip()] = float(w)
    return mix


def longest_operand(rec: dict) -> int:
    a, _, b = rec["input"].split(" ")
    return max(len(a), len(b))


def make_data(out: Path, a: argparse.Namespace) -> Path:
    """OUT/data/train.jsonl: generated by the Goat data job (every record checked), merged, shuffled."""
    from mathwright.arith.goat_mix import apportion
    from mathwright.data.io import atomic_write

    final = out / "data" / "train.jsonl"
    if final.exists():
        return final
    mix = parse_mix(a.mix)
    parts: list[Path] = []
    if mix is None:
        parts.append(out / "data" / "goat.jsonl")
        if not parts[-1].exists():
            generate(parts[-1], a, a.n_train, a.seed)
    else:
        counts = apportion(a.n_train, [round(w * 1e6) for w in mix.values()])
        for i, (g, k) in enumerate(zip(mix, counts)):
            p = out / "data" / f"{g}.jsonl"
            if k and not p.exists():  # distinct seeds: add and sub share a sampler, so one seed would pair them
                generate(p, a, k, a.seed * 100 + i, (g,))
            if k:
                parts.append(p)
    lines = [ln for p in parts for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]
    random.Random(f"goat-pretrained|{a.seed}").shuffle(lines)
    if a.curriculum == "length":  # short operands first; ties stay shuffled (sort is stable)
        lines.sort(key=lambda ln: longest_operand(json.loads(ln)))
    with atomic_write(final) as f:
        f.write("\n".join(lines) + "\n")
    return final


# ------------------------------------------------------------------------------------------ evaluation


def eval_tasks(model: Any, tasks: list[Any], out: Path, n: int, seed: int, batch_size: int) -> dict[str, dict]:
    """``{label: metrics}`` for each task through :func:`run_arith_eval` (resumable per task directory)."""
    from mathwright.eval.arith import run_arith_eval

    res = {}
    for b in tasks:
        m = run_arith_eval(model, out / f"{b.op}{b.la}x{b.lb}", fmt="goat", ops=b.op, digits=f"{b.la}x{b.lb}", n=n,
                           seed=seed, batch_size=batch_size, print_table=False)
        res[b.label] = {"n": m["n"], "exact": m["exact_match"], "digit": m["digit_match"]}
    return res


def read_curve(path: Path) -> list[dict]:
    return [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()] if path.exists() else []


def write_curve(path: Path, points: list[dict]) -> None:
    from mathwright.data.io import atomic_write

    with atomic_write(path) as f:
        f.write("".join(json.dumps(p) + "\n" for p in points))


def curve_callback(out: Path, tasks: list[Any], n: int, seed: int, batch_size: int) -> Any:
    """A TrainerCallback: a quick eval of the in-memory model at every checkpoint (and at the start: step 0 or
    the resumed step, if its point is missing). Points past the resumed step (work a kill threw away) are
    dropped, so OUT/curve.jsonl never holds a step twice. CPU seconds count training only (evals excluded)."""
    import torch
    from transformers import TrainerCallback

    from mathwright.models.hf import HFModel

    path = out / "curve.jsonl"

    class Curve(TrainerCallback):
        def __init__(self) -> None:
            self.cpu0 = self.base_cpu = self.eval_cpu = 0.0
            self.wall0 = self.base_wall = self.eval_wall = 0.0

        def _point(self, state: Any, model: Any, tok: Any) -> None:
            if not state.is_world_process_zero:
                return
            t0, w0 = time.process_time(), time.monotonic()
            rng = torch.get_rng_state()  # generation must not move the training RNG (dropout, sampling)
            was_training = model.training
            model.eval()
            try:
                res = eval_tasks(HFModel(model, tok, name=f"step-{state.global_step}"), tasks,
                                 out / "curve" / f"step-{state.global_step:06d}", n, seed, batch_size)
            finally:
                model.train(was_training)
                torch.set_rng_state(rng)
            cpu = self.base_cpu + (t0 - self.cpu0) - self.eval_cpu
            wall = self.base_wall + (w0 - self.wall0) - self.eval_wall
            self.eval_cpu += time.process_time() - t0
            self.eval_wall += time.monotonic() - w0
            points = [p for p in read_curve(path) if p["step"] != state.global_step]
            points.append({"step": state.global_step, "tokens": int(getattr(state, "num_input_tokens_seen", 0) or 0),
                           "train_cpu_seconds": round(cpu, 1), "train_wall_seconds": round(wall, 1), "time": time.strftime("%Y-%m-%d %H:%M:%S"),
                           "load_avg": os.getloadavg()[0], "tasks": res})
            write_curve(path, sorted(points, key=lambda p: p["step"]))
            print(f"curve step {state.global_step}: " + ", ".join(f"{k} {v['exact']:.0%}" for k, v in res.items()),
                  flush=True)

        def on_train_begin(self, args, state, control, model=None, processing_class=None, **kw):  # type: ignore[override]
            self.cpu0, self.wall0, self.eval_cpu, self.eval_wall = time.process_time(), time.monotonic(), 0.0, 0.0
            points = [p for p in read_curve(path) if p["step"] <= state.global_step]
            if state.is_world_process_zero:
                write_curve(path, points)
            last = points[-1] if points else {}  # the resumed checkpoint's point (its own, or the latest before)
            self.base_cpu, self.base_wall = last.get("train_cpu_seconds", 0.0), last.get("train_wall_seconds", 0.0)
            here = [p for p in points if p["step"] == state.global_step]
            if not here:
                self._point(state, model, processing_class)

        def on_save(self, args, state, control, model=None, processing_class=None, **kw):  # type: ignore[override]
            self._point(state, model, processing_class)

    return Curve()


# --------------------------------------------------------------------------------------------- phases


def train_config(a: argparse.Namespace, data: Path, out_dir: Path, extra: list[str] = ()) -> Any:
    from mathwright.train.recipe import load_train_config

    over = [f"data=[{data}]", f"output_dir={out_dir}", f"seed={a.seed}", "trainer.include_num_input_tokens_seen=non_padding",
            "trainer.disable_tqdm=true", f"trainer.save_steps={a.eval_every}"]
    if a.threads:
        over.append(f"threads={a.threads}")
    if a.curriculum == "length":
        over.append("trainer.train_sampling_strategy=sequential")
    return load_train_config(Path(a.config), [*over, *a.set, *extra])


def profile(a: argparse.Namespace, data: Path, out: Path) -> dict:
    """``--profile N``: N steps in OUT/profile (fresh, nothing saved) under StepTimer and torch.profiler."""
    import torch

    from mathwright.train.callbacks import StepTimer
    from mathwright.train.sft import train

    d = out / "profile"
    shutil.rmtree(d, ignore_errors=True)
    cfg = train_config(a, data, d, [f"trainer.max_steps={a.profile}", "trainer.save_steps=1000000", "resume=never",
                                    "max_minutes=null", "trainer.logging_steps=1", "lora.merge=false",
                                    ])
    timer = StepTimer()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        train(cfg, callbacks=[timer])
    s = timer.summary(skip=1)
    s["load_avg"] = os.getloadavg()[0]
    s["tokens_per_second"] = json.loads((d / "train_summary.json").read_text()).get("tokens_per_second")
    s["top_ops"] = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15)
    print(f"\nper step (mean of {s['steps']} steps after the first; load {s['load_avg']:.1f}): {s['seconds_per_step']} s")
    for k, v in s["phases"].items():
        print(f"  {k:<10} {v['seconds']:8.3f} s  {v['share']:6.1%}")
    print(f"  tokens/s {s['tokens_per_second']}\n\n{s['top_ops']}")
    (out / "profile.json").write_text(json.dumps(s, indent=2))
    return s


def check_same_run(out: Path, a: argparse.Namespace) -> None:
    """A chunk continues a run only with the same run-defining arguments (else: exit 2, one line)."""
    spec = {k: getattr(a, k) for k in RUN_ARGS}
    path = out / "bench_args.json"
    if path.exists():
        old = json.loads(path.read_text())
        diff = [k for k in RUN_ARGS if old.get(k) != spec[k]]
        if diff:
            print(f"error: {out} holds a run with different {', '.join('--' + k.replace('_', '-') for k in diff)}; "
                  "use a new --out", file=sys.stderr)
            raise SystemExit(2)
    else:
        out.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(spec, indent=2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "runs" / "goat_pretrained")
    ap.add_argument("--config", default=str(REPO / "configs" / "goat-gemma3-270m.yaml"))
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="recipe override (repeatable), e.g. mode=lora, trainer.learning_rate=1e-4, trainer.packing=true")
    ap.add_argument("--n-train", type=int, default=100_000, help="training records generated")
    ap.add_argument("--template", choices=("bare", "goat"), default="bare")
    ap.add_argument("--mix", default="add=0.3,sub=0.3,mul_nm=0.2,div_nm=0.2",
                    help="bucket-group shares, or 'goat' for the reference's six-group mix")
    ap.add_argument("--curriculum", choices=("none", "length"), default="none")
    ap.add_argument("--max-digits", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tasks", default=TASKS)
    ap.add_argument("--eval-every", type=int, default=200, help="checkpoint + quick eval every N steps")
    ap.add_argument("--quick-n", type=int, default=20, help="problems per task in the quick evals")
    ap.add_argument("--n-eval", type=int, default=200, help="problems per task in the final eval")
    ap.add_argument("--eval-seed", type=int, default=0)
    ap.add_argument("--eval-dtype", default="bf16")
    ap.add_argument("--eval-batch", type=int, default=16)
    ap.add_argument("--max-minutes", type=float, default=None, help="this chunk's training wall-clock cap")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "0")) or None)
    ap.add_argument("--finish", action="store_true", help="no more training: evaluate the latest model and report")
    ap.add_argument("--profile", type=int, default=0, metavar="STEPS", help="time STEPS steps by phase, then exit")
    ap.add_argument("--no-results", action="store_true", help="do not write docs/RESULTS.md or docs/*.png")
    a = ap.parse_args()
    out: Path = a.out
    check_same_run(out, a)
    data = make_data(out, a)
    if a.profile:
        profile(a, data, out)
        return

    from mathwright.train.sft import train

    tasks = buckets(a.tasks)
    train_dir = out / "train"
    cfg = train_config(a, data, train_dir, [f"max_minutes={a.max_minutes or 'null'}"])
    summary_path = train_dir / "train_summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    done = summary.get("steps", 0) >= cfg.trainer.get("max_steps", 10**12)
    if not done and not a.finish:
        chunk = {"start": time.strftime("%Y-%m-%d %H:%M:%S"), "load_start": os.getloadavg()[0]}
        t0 = time.time()
        train(cfg, callbacks=[curve_callback(out, tasks, a.quick_n, a.eval_seed, a.eval_batch)])
        chunk.update(wall_seconds=round(time.time() - t0, 1), load_end=os.getloadavg()[0])
        summary = json.loads(summary_path.read_text())
        chunk["steps"] = summary["steps"]
        with open(out / "chunks.jsonl", "a") as f:
            f.write(json.dumps(chunk) + "\n")
        done = summary["steps"] >= cfg.trainer.get("max_steps", 10**12)
        if done and a.max_minutes:  # the final eval (~20+ min for 6 x 200 problems) gets its own chunk
            print("training complete; rerun the same command to run the final eval and write the report", flush=True)
            plot_curve(read_curve(out / "curve.jsonl"), out / "curve.png")
            return
    curve = read_curve(out / "curve.jsonl")
    if curve:
        plot_curve(curve, out / "curve.png")
    if not done and not a.finish:
        print(f"chunk done at step {summary.get('steps')}; rerun the same command to continue "
              f"(or add --finish to evaluate this model)", flush=True)
        return

    from mathwright.models.hf import load

    model = load(str(train_dir / "model"), dtype=a.eval_dtype, threads=a.threads)
    final = eval_tasks(model, tasks, out / "eval" / f"n{a.n_eval}", a.n_eval, a.eval_seed, a.eval_batch)
    tpr = tokens_per_record(data, model.tokenizer, cfg.prompt)
    chunks = [json.loads(ln) for ln in (out / "chunks.jsonl").read_text().splitlines()] if (out / "chunks.jsonl").exists() else []
    body = report(a, tasks, out, data, cfg, final, curve, summary, chunks, tpr,
                  overlap(data, tasks, a.n_eval, a.eval_seed))
    (out / "report.md").write_text(body)
    print(body)
    if not a.no_results:
        from mathwright.eval.results import update_section

        if curve:
            plot_curve(curve, REPO / "docs" / "goat_pretrained_curve.png")
        update_section(SECTION, body, seed=a.seed, command="python bench/goat_pretrained.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
