"""The report side of bench/goat_pretrained.py: the learning-curve plot, trace validity, tokens per record, the
train/eval overlap check and the RESULTS section body."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# Goat-7B exact match (goat.md §7, Table 3): the extra columns, and BIG-bench's 4D column for 4Dx4D.
GOAT7B = {"8D+8D": 97.8, "16D+16D": 97.6, "8D-8D": 96.8, "16D-16D": 96.3, "4Dx4D": 96.9}


def plot_curve(points: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for label in points[0]["tasks"] if points else []:
        ax.plot([p["tokens"] / 1e6 for p in points], [100 * p["tasks"][label]["exact"] for p in points], marker="o",
                ms=3, label=label)
    ax.set_xlabel("training tokens (millions, prompt + completion, no padding)")
    ax.set_ylabel("exact match % (quick eval, greedy)")
    ax.set_ylim(-2, 102)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Gemma 3 270M on Goat data: learning curve")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def overlap(data: Path, tasks: list[Any], n: int, seed: int) -> int:
    """Eval problems whose canonical input also occurs in the training data (should be 0: 'fresh')."""
    from mathwright.eval.arith_suites import bucket_problems

    seen = {json.loads(ln)["input"] for ln in data.read_text(encoding="utf-8").splitlines() if ln.strip()}
    return sum(p.expr() in seen for b in tasks for p in bucket_problems(b, n, seed))


def valid_trace_rate(eval_dir: Path) -> float:
    """Share of outputs that are a fully valid Goat record (every CoT step true, exact integers)."""
    from mathwright.formats.goat import check

    rows = [json.loads(ln) for ln in (eval_dir / "predictions.jsonl").read_text().splitlines() if ln.strip()]
    ok = [check({"instruction": f"{r['a']} {r['b']}", "input": f"{r['a']} {sym(r['op'])} {r['b']}",
                 "output": r["output"].strip(), "answer": r["answer"]}) is None for r in rows]
    return sum(ok) / max(1, len(ok))


def sym(op: str) -> str:
    from mathwright.arith.problem import SYMBOLS

    return SYMBOLS[op]


def tokens_per_record(data: Path, tok: Any, prompt: str, k: int = 2000) -> dict[str, float]:
    """Mean tokens per record (prompt + output + EOS) by op over the first ``k`` records, and ``"all"``."""
    by: dict[str, list[int]] = {}
    for ln in data.read_text(encoding="utf-8").splitlines()[:k]:
        r = json.loads(ln)
        by.setdefault(r["op"], []).append(len(tok(prompt.format(**r) + r["output"])["input_ids"]) + 1)
    every = [x for v in by.values() for x in v]
    return {**{op: sum(v) / len(v) for op, v in sorted(by.items())}, "all": sum(every) / max(1, len(every))}


def report(a: Any, tasks: list[Any], out: Path, data: Path, cfg: Any, final: dict, curve: list[dict], summary: dict,
           chunks: list[dict], tpr: dict[str, float], n_overlap: int) -> str:
    rows = []
    for b in tasks:
        m = final[b.label]
        rate = valid_trace_rate(out / "eval" / f"n{a.n_eval}" / f"{b.op}{b.la}x{b.lb}")
        goat = GOAT7B.get(b.label)
        rows.append(f"| {b.label} | {m['n']} | {m['exact']:.1%} | {m['digit']:.1%} | {rate:.0%} | "
                    f"{f'{goat}%' if goat else 'n/a'} |")
    tokens = curve[-1]["tokens"] if curve else 0
    cpu = curve[-1]["train_cpu_seconds"] if curve else 0.0
    wall = curve[-1].get("train_wall_seconds", 0.0) if curve else 0.0
    loads = [c[k] for c in chunks for k in ("load_start", "load_end")]
    n_data = sum(1 for _ in open(data, encoding="utf-8"))
    mean_tpr = tpr["all"]  # over the records, so weighted by the mix
    tps = tokens / wall if wall else 0.0
    goat_tokens = 1e6 * mean_tpr  # Goat-7B: ~1M records (its loss plateau)
    gpu_hours = 6 * 268e6 * goat_tokens / 50e12 / 3600  # 6 N T FLOPs at an assumed 50 TFLOP/s achieved
    curve_rows = "\n".join(
        f"| {p['step']} | {p['tokens'] / 1e6:.2f} | {p['train_cpu_seconds'] / 60:.0f} | "
        + " | ".join(f"{100 * p['tasks'][b.label]['exact']:.0f}" for b in tasks) + " |" for p in curve)
    lr = cfg.trainer.get("learning_rate")
    how = {"lora": f"LoRA r {cfg.lora.r} / alpha {cfg.lora.alpha} on {', '.join(cfg.lora.target_modules)}",
           "full": "full fine-tuning" + (f" of the parameters matching {cfg.trainable}" if cfg.trainable else " (every weight)")}
    return f"""
`{cfg.model}` (Gemma 3 270M: the bundled Q4_K_M gguf, dequantised; {cfg.dtype}), {how.get(cfg.mode, cfg.mode)}; recipe
`{a.config}` with overrides {a.set or 'none'}; peak lr {lr}, {cfg.trainer.get('lr_scheduler_type')}, batch
{cfg.trainer.get('per_device_train_batch_size')} x accumulation {cfg.trainer.get('gradient_accumulation_steps', 1)}.
Data: `mathwright generate goat` ({n_data} records, template `{a.template}`, mix `{a.mix}`, curriculum
`{a.curriculum}`, operands up to {a.max_digits} digits; Goat's output format, CoT for x and /), prompt
`{{instruction}}\\nAnswer: `, prompt masked out of the loss. Evaluation: `mathwright eval arith --format goat`,
{a.n_eval} fresh problems per task (eval seed {a.eval_seed}; {n_overlap} of them occur in the training data), greedy,
{a.eval_dtype} decoding.

| TASK | n | exact % | digit % | valid Goat trace % | Goat-7B exact % |
|---|---|---|---|---|---|
{chr(10).join(rows)}

| training | value |
|---|---|
| optimizer steps | {summary.get('steps')} |
| tokens seen (prompt + completion, no padding) | {tokens} ({tokens / max(1, summary.get('steps') or 1):.0f} per step) |
| mean tokens per record, by op | {', '.join(f'{k} {v:.0f}' for k, v in tpr.items())} |
| training CPU time (process, all threads; evals excluded) | {cpu / 3600:.2f} h |
| training wall time over {len(chunks)} chunk(s) (quick evals excluded) | {wall / 3600:.2f} h ({tps:.0f} tokens/s) |
| 1-minute load average (chunk starts / ends) | {', '.join(f'{x:.1f}' for x in loads)} on 2 cores |

Learning curve (quick eval: {a.quick_n} problems per task at each checkpoint; docs/goat_pretrained_curve.png),
exact %:

| step | tokens (M) | CPU min | {' | '.join(b.label for b in tasks)} |
|---|---|---|{'---|' * len(tasks)}
{curve_rows}

Extrapolation to Goat-7B's data (~1M records, where its loss plateaued): at this mix's
{mean_tpr:.0f} tokens per record that is {goat_tokens / 1e6:.0f}M tokens, {goat_tokens / max(tps, 1e-9) / 86400:.0f} days at this
run's {tps:.0f} tokens/s on 2 CPU cores; on one GPU, 6 x 268M x {goat_tokens / 1e6:.0f}M FLOPs at an assumed 50 TFLOP/s
achieved is about {gpu_hours:.1f} h (the 262k-token LM head is part of the 268M).
"""
