"""LoRA on Gemma 3 270M (bundled gguf) over Goat addition data: training tokens/s and 8D+8D accuracy
before and after. Writes the RESULTS section "LoRA on Gemma 3 270M".

    OMP_NUM_THREADS=2 python bench/gemma_lora.py --out runs/bench_gemma_lora            # ~15 min on 2 cores
    python bench/gemma_lora.py --out /tmp/g --n-train 200 --max-minutes 1 --n-eval 10   # smoke

Phases (each resumes: data and evals are skipped when their outputs exist, training resumes from its
newest checkpoint):
1. data   ``mathwright.data.goat.run`` with ``groups=("add",)`` (what ``mathwright generate goat --buckets add``
          runs: Goat's add bucket, 1-16 digit operands, Goat templates)
2. before ``mathwright.eval.arith.run_arith_eval`` (what ``mathwright eval arith --format goat --ops add --digits 8``
          runs) on the base model (bf16 decoding)
3. train  ``configs/gemma3-270m-lora.yaml`` with overrides, via ``mathwright.train.sft.train`` (LoRA 64/64/0.05 on q,k,v,o; wall-clock cap)
4. after  the same eval on the merged model
5. loss   side by side, ``--compare-steps`` steps each: TRL's own loss (its fused LM head, which off Triton scores
          every position in fp32 tiles) vs mathwright's labelled-positions loss, training tokens/s of each
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SECTION = "LoRA on Gemma 3 270M"


def generate(out: Path, n: int, seed: int) -> None:
    """Goat's add bucket through the library's data job (``mathwright generate goat --buckets add``)."""
    from mathwright.data.goat import GoatDataConfig, run

    print(f"+ data.goat.run(n={n}, seed={seed}, groups=('add',), out={out})", flush=True)
    meta = run(GoatDataConfig(out=out, n=n, seed=seed, groups=("add",), progress=False))
    for info in meta["files"].values():
        print(f"wrote {info['records']} records to {out}", flush=True)


def evaluate(model: str, out: Path, n: int, threads: int, dtype: str, batch_size: int) -> dict:
    from mathwright.eval.arith import run_arith_eval
    from mathwright.models.hf import load

    if (out / "metrics.json").exists():
        return json.loads((out / "metrics.json").read_text())
    m = load(model, dtype=dtype, threads=threads)
    t0 = time.time()
    metrics = run_arith_eval(m, out, fmt="goat", ops="add", digits="8", n=n, batch_size=batch_size,
                             max_new_tokens=48, print_table=False)
    metrics["eval_seconds"] = round(time.time() - t0, 1)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


def goat_form_rate(eval_dir: Path) -> float:
    """Share of outputs that take Goat's answer form ``a + b = c`` (restated expression, then a number)."""
    import re

    rows = [json.loads(line) for line in (eval_dir / "predictions.jsonl").read_text().splitlines() if line.strip()]
    ok = [bool(re.match(rf"\s*{r['a']} \+ {r['b']} = -?\d+\s*$", r["output"])) for r in rows]
    return sum(ok) / max(1, len(ok))


def compare_losses(cfg_overrides: list[str], out: Path, steps: int) -> dict[str, float]:
    """Training tokens/s with TRL's loss and with ours, same data and settings, in the order A B B A so that a
    load change during the comparison hits both alike; each figure is the mean of its two runs."""
    from mathwright.train.recipe import load_train_config
    from mathwright.train.sft import train

    runs: dict[str, list[float]] = {"trl": [], "labelled": []}
    for i, name in enumerate(("trl", "labelled", "labelled", "trl")):
        d = out / f"loss_{name}_{i}"
        if not (d / "train_summary.json").exists():
            train(load_train_config(REPO / "configs" / "gemma3-270m-lora.yaml", [
                *cfg_overrides, f"output_dir={d}", f"labelled_loss={name == 'labelled'}".lower(),
                f"trainer.max_steps={steps}", "max_minutes=null", "lora.merge=false", "trainer.save_steps=1000",
                "trainer.warmup_steps=0"]))
        runs[name].append(json.loads((d / "train_summary.json").read_text())["tokens_per_second"])
    load = out / "loss_compare_load.json"  # the load while the comparison ran, not at a later report-only re-run
    if not load.exists():
        load.write_text(json.dumps({"load_avg": os.getloadavg()[0]}))
    return ({k: round(sum(v) / len(v), 1) for k, v in runs.items()} | {f"{k}_runs": v for k, v in runs.items()}
            | json.loads(load.read_text()))


def compare_text(speed: dict[str, float], steps: int) -> str:
    if not speed:
        return ""
    return (f"Loss side by side ({steps} steps per run, same data and settings, runs in the order TRL, ours, ours, "
            f"TRL; means of two runs each, single runs {speed['trl_runs']} and {speed['labelled_runs']}): TRL's own loss "
            f"(its fused LM head; off Triton it scores every position, prompt and padding included, in fp32 tiles "
            f"and recomputes them in backward) **{speed['trl']} tokens/s**; mathwright's labelled-positions loss "
            f"(`labelled_loss: true`, the default: only positions with a label go through the 262k-token LM head) "
            f"**{speed['labelled']} tokens/s**, {speed['labelled'] / speed['trl']:.1f}x (1-minute load average "
            f"{speed['load_avg']:.1f} at its end).\n\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "runs" / "bench_gemma_lora")
    ap.add_argument("--n-train", type=int, default=4000)
    ap.add_argument("--n-eval", type=int, default=100)
    ap.add_argument("--max-minutes", type=float, default=8.0, help="training wall-clock cap")
    ap.add_argument("--max-steps", type=int, default=300)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "2")))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", default="float32", help="training dtype of the base (LoRA weights stay float32)")
    ap.add_argument("--compare-steps", type=int, default=8, help="steps per loss in the side-by-side (0: skip)")
    ap.add_argument("--no-results", action="store_true", help="do not write docs/RESULTS.md")
    a = ap.parse_args()
    out: Path = a.out
    out.mkdir(parents=True, exist_ok=True)
    load0 = os.getloadavg()[0]

    data = out / "data" / "goat-add.jsonl"
    if not data.exists():
        generate(data, a.n_train, a.seed)

    before = evaluate("gemma3-270m", out / "eval_before", a.n_eval, a.threads, "bf16", 16)
    print(f"before: exact {before['exact_match']:.3f} digit {before['digit_match']:.3f}", flush=True)

    from mathwright.train.recipe import load_train_config
    from mathwright.train.sft import train

    train_dir = out / "train"
    common = [f"data=[{data}]", f"threads={a.threads}", f"seed={a.seed}", f"dtype={a.dtype}",
              f"trainer.learning_rate={a.lr}", f"trainer.per_device_train_batch_size={a.batch_size}",
              "trainer.report_to=[]", "trainer.logging_steps=2", "trainer.disable_tqdm=true"]
    cfg = load_train_config(REPO / "configs" / "gemma3-270m-lora.yaml", [
        *common, f"output_dir={train_dir}", f"max_minutes={a.max_minutes}", f"trainer.max_steps={a.max_steps}",
        "trainer.save_steps=10"])
    if not (train_dir / "train_summary.json").exists():
        train(cfg)
    summary = json.loads((train_dir / "train_summary.json").read_text())

    after = evaluate(str(train_dir / "model"), out / "eval_after", a.n_eval, a.threads, "bf16", 16)
    print(f"after: exact {after['exact_match']:.3f} digit {after['digit_match']:.3f}", flush=True)
    speed = compare_losses(common, out, a.compare_steps) if a.compare_steps else {}
    load1 = os.getloadavg()[0]
    prev = out / "result.json"
    if prev.exists() and (train_dir / "train_summary.json").stat().st_mtime < prev.stat().st_mtime:
        # a re-run that only rewrites the report: keep the load measured while the work actually ran
        old = json.loads(prev.read_text())
        load0, load1 = old.get("load_avg_start", load0), old.get("load_avg_end", load1)

    form0, form1 = goat_form_rate(out / "eval_before"), goat_form_rate(out / "eval_after")
    result = {"loss_tokens_per_second": speed, "goat_form_before": form0, "goat_form_after": form1, "before": before, "after": after, "train": summary, "load_avg_start": load0, "load_avg_end": load1,
              "args": {k: str(v) for k, v in vars(a).items()}}
    (out / "result.json").write_text(json.dumps(result, indent=2))
    shared = (" (the machine was shared with other jobs, so the throughput is a lower bound for an idle machine)"
              if max(load0, load1) > a.threads + 0.7 else "")
    body = f"""
LoRA (Goat settings: r 64, alpha 64, dropout 0.05 on q, k, v, o) on Gemma 3 270M (the bundled Q4_K_M gguf,
dequantised, trained in {a.dtype}, {a.threads} threads), Goat's addition bucket ({a.n_train} records, operands of
1-16 digits, Goat's instruction templates, prompt `{{instruction}}\\nAnswer: `, prompt masked out of the loss).
Evaluation: {a.n_eval} fresh 8D+8D problems, greedy, bf16 decoding, `mathwright eval arith --format goat`.

| | 8D+8D exact match | 8D+8D digit match | outputs in Goat's form `a + b = c` |
|---|---|---|---|
| Gemma 3 270M (base) | {before['exact_match']:.1%} | {before['digit_match']:.1%} | {form0:.0%} |
| + LoRA ({summary['steps']} steps) | {after['exact_match']:.1%} | {after['digit_match']:.1%} | {form1:.0%} |

| training | value |
|---|---|
| optimizer steps x batch | {summary['steps']} x {a.batch_size} (peak lr {a.lr} after the recipe's 10 warm-up steps, cosine; wall cap {a.max_minutes} min) |
| tokens seen (prompt + completion, no padding) | {summary['tokens_seen_this_run'] or 0:.0f} |
| training wall time | {summary['wall_seconds']:.0f} s |
| **training tokens/s** | **{summary['tokens_per_second'] or 'n/a'}** |
| training loss (mean over the run) | {summary['train_loss']:.3f} |

{compare_text(speed, a.compare_steps)}1-minute load average {load0:.1f} at the start and {load1:.1f} at the end, on 2 cores{shared}. Read the
accuracy row as "what a few CPU minutes buy" (Goat-7B: 97.8% exact on 8D+8D after an epoch of ~1M records on a
GPU). A longer run is `python bench/gemma_lora.py --max-minutes 60 --max-steps 1000`.
"""
    if not a.no_results:
        from mathwright.eval.results import update_section

        update_section(SECTION, body, seed=a.seed, command="python bench/gemma_lora.py " + " ".join(sys.argv[1:]))
    print(body)


if __name__ == "__main__":
    main()
