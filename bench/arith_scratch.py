"""From-scratch arithmetic on CPU: what accuracy do tiny LLaMA models reach within 15 and 60 CPU-minutes?

Each run trains a fresh ``models/tiny.py`` LLaMA (char tokenizer, standard HF checkpoint) on freshly
sampled problems rendered in one data format, for a budget of training CPU time on one thread (evaluation
excluded, so other jobs on the machine stretch the wall time but not the compute), then scores checkpoints
with ``mathwright eval arith`` (the shared evaluator: full-answer exact match and digit match).

Why its own training loop rather than ``mathwright train``: a time budget needs a time-based learning-rate
schedule and an endless stream of new problems (no dataset to tokenize up front); everything else is the
same (the char tokenizer, prompt ``"{instruction}\\nAnswer: "``, loss on the answer only, AdamW, bf16
autocast with eager attention on CPU).

Schedule: linear warm-up, constant learning rate, then a linear decay over the last 20% of the budget.
Earlier snapshot minutes are checkpoints taken in the constant-LR phase.

Runs (``--runs``; default: the three ``aligned`` runs):

- ``addsub-aligned``         add+sub, 1-16 digits, ``aligned`` (LSB-first padded operands and answer, sign first)
- ``addsub-aligned-scratch`` add+sub, 1-16 digits, ``aligned-scratch`` (subtraction mod 10^17, then ``>-|a-b|``)
- ``mul-aligned-scratch``    mul, 1-6 digits, ``aligned-scratch6`` (fixed-width long multiplication, LSB-first)
- ``addsub-padded``, ``mul-scratchpad``, ``addsub-reversed``, ``mul-goat``: the first session's formats
  (MSB-first operands); all stayed at 0% exact in their (heavily shared) runs.

Usage (how the RESULTS figures were made: the add/sub runs one after the other on one core, the
multiplication run beside them on the other; then the report from the saved summaries)::

    python bench/arith_scratch.py --runs mul-aligned-scratch --budgets 5,15,30,60 --no-results
    python bench/arith_scratch.py --runs addsub-aligned --budgets 5,15 --no-results
    python bench/arith_scratch.py --runs addsub-aligned-scratch --budgets 5,15,30 --no-results
    python bench/arith_scratch.py --report-only
    python bench/arith_scratch.py --runs addsub-aligned --budgets 1 --n 20 --no-results --out /tmp/a   # a quick try

Runs in one invocation execute side by side, one thread each. Figures go to the "From-scratch arithmetic"
section of docs/RESULTS.md; per-run details (loss curve, eval dirs, checkpoints) to ``--out``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOAT_7B = {"add:16x16": 97.6, "mul:6x6": 96.8, "div:12x6": 89.3, "add:8x8": 97.8, "add:16x8": 97.1,
           "sub:8x8": 96.8, "sub:16x16": 96.3}  # Goat-7B exact match %, goat.md §7 (LoRA on a GPU)


@dataclass(frozen=True)
class Run:
    name: str
    format: str
    ops: tuple[str, ...]
    max_digits: int
    preset: str
    batch: int
    lr: float
    eval_buckets: str  # space-separated OP:AxB shapes
    short: bool = False  # format comparison: trained for the smallest budget only (CPU is scarce)


ADDSUB = "add:8x8 add:16x8 add:16x16 sub:8x8 sub:16x16"
MUL = "mul:3x3 mul:4x4 mul:6x6"
RUNS = {
    "addsub-aligned": Run("addsub-aligned", "aligned", ("add", "sub"), 16, "tiny-1m", 64, 3e-3, ADDSUB),
    "addsub-aligned-scratch": Run("addsub-aligned-scratch", "aligned-scratch", ("add", "sub"), 16, "tiny-1m", 64, 3e-3,
                                  ADDSUB),
    "mul-aligned-scratch": Run("mul-aligned-scratch", "aligned-scratch6", ("mul",), 6, "tiny-1m", 32, 2e-3, MUL),
    "addsub-padded": Run("addsub-padded", "padded", ("add", "sub"), 16, "tiny-1m", 32, 3e-3, ADDSUB),
    "mul-scratchpad": Run("mul-scratchpad", "scratchpad", ("mul",), 6, "tiny-1m", 16, 2e-3, MUL),
    "addsub-reversed": Run("addsub-reversed", "reversed", ("add", "sub"), 16, "tiny-1m", 32, 3e-3, ADDSUB, short=True),
    "mul-goat": Run("mul-goat", "goat", ("mul",), 6, "tiny-1m", 16, 2e-3, MUL, short=True),
}


# ----------------------------------------------------------------------------------------- one run (child)
def _problems(run: Run, rng: random.Random):
    from mathwright.arith.problem import Problem
    from mathwright.arith.sampling import sample_with_digits

    def length() -> int:  # max of two uniform draws: long operands (the hard, tested shapes) are more frequent
        return max(rng.randint(1, run.max_digits), rng.randint(1, run.max_digits))

    while True:
        op = rng.choice(run.ops)
        yield Problem(op, sample_with_digits(rng, length()), sample_with_digits(rng, length()))


def _lr_at(run: Run, frac: float, step: int, warmup: int = 100) -> float:
    decay = 1.0 if frac < 0.8 else max(0.02, (1.0 - frac) / 0.2)
    return run.lr * min(1.0, (step + 1) / warmup) * decay


def train_one(run: Run, budget_min: float, snapshots: list[float], out: Path, n_eval: int, seed: int) -> dict:
    """Train ``run`` for ``budget_min`` wall minutes; save + evaluate a checkpoint at each snapshot minute."""
    import torch

    from mathwright.eval.arith import run_arith_eval
    from mathwright.formats.registry import arith_format
    from mathwright.models.hf import HFModel
    from mathwright.models.tiny import build_tiny, describe
    from mathwright.train.sft import set_training_attention

    torch.set_num_threads(1)
    fmt = arith_format(run.format)
    model, tok = build_tiny(run.preset, seed=seed)
    set_training_attention(model)  # eager on CPU: ~2x faster than sdpa under bf16 autocast
    vocab = tok.get_vocab()
    unk = vocab[tok.unk_token]
    bos, eos = tok.bos_token_id, tok.eos_token_id

    def ids(text: str) -> list[int]:
        return [vocab.get(c, unk) for c in text]

    def batch(gen) -> tuple:
        seqs, plen = [], []
        for _ in range(run.batch):
            p = next(gen)
            rec = fmt.render(p, random.Random(0))
            pr = [bos] + ids(fmt.prompt(p))
            seqs.append(pr + ids(rec["output"]) + [eos])
            plen.append(len(pr))
        T = max(map(len, seqs))
        x = torch.full((len(seqs), T), tok.pad_token_id)
        y = torch.full((len(seqs), T), -100)
        m = torch.zeros((len(seqs), T), dtype=torch.long)
        for i, (s, k) in enumerate(zip(seqs, plen)):
            x[i, : len(s)] = torch.tensor(s)
            m[i, : len(s)] = 1
            y[i, k: len(s)] = torch.tensor(s[k:])
        return x, m, y, sum(map(len, seqs))

    opt = torch.optim.AdamW(model.parameters(), lr=run.lr, betas=(0.9, 0.98), weight_decay=0.1)
    gen = _problems(run, random.Random(f"train|{seed}|{run.name}"))
    out.mkdir(parents=True, exist_ok=True)
    budget = budget_min * 60
    todo = sorted(s for s in snapshots if s <= budget_min)
    # The budget is training CPU time of the one thread the run gets (evaluation excluded), so a busy
    # machine stretches wall time but not the compute a run is granted.
    w0, c0, paused_cpu = time.time(), time.process_time(), 0.0
    step, tokens, losses, results = 0, 0, [], {}
    model.train()
    while True:
        el = time.process_time() - c0 - paused_cpu
        while todo and (el >= todo[0] * 60 or el >= budget):
            minute = todo.pop(0)
            ck = out / f"model-{minute:g}min"
            model.save_pretrained(ck)
            tok.save_pretrained(ck)
            paused, paused_c = time.time(), time.process_time()
            model.eval()
            ev = {}
            for bk in run.eval_buckets.split():
                op, shape = bk.split(":")
                m = run_arith_eval(HFModel(model, tok, name=str(ck)), out / f"eval-{minute:g}min" / bk.replace(":", "-"),
                                   fmt=run.format, ops=op, digits=shape, n=n_eval, seed=seed, batch_size=50,
                                   print_table=False)
                ev[bk] = {"exact_match": m["exact_match"], "digit_match": m["digit_match"], "n": m["n"]}
            model.train()
            results[f"{minute:g}"] = {"minutes": minute, "steps": step, "tokens": tokens,
                                      "cpu_seconds": round(el, 1), "wall_seconds": round(paused - w0, 1),
                                      "loss": round(sum(losses[-50:]) / max(1, len(losses[-50:])), 4), "eval": ev,
                                      "eval_seconds": round(time.time() - paused, 1)}
            print(json.dumps({"run": run.name, **results[f"{minute:g}"]}), flush=True)
            paused_cpu += time.process_time() - paused_c
            w0 += time.time() - paused
            el = time.process_time() - c0 - paused_cpu
        if el >= budget or not todo:
            break
        x, m, y, nt = batch(gen)
        for g in opt.param_groups:
            g["lr"] = _lr_at(run, el / budget, step)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = model(input_ids=x, attention_mask=m, labels=y).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        tokens += nt
        losses.append(loss.item())
        if step % 100 == 0:
            with open(out / "loss.csv", "a") as f:
                f.write(f"{step},{el:.1f},{tokens},{sum(losses[-100:]) / 100:.5f}\n")
    summary = {"run": asdict(run), "model": describe(model),
               "params": sum(p.numel() for p in model.parameters()), "budget_minutes": budget_min,
               "snapshots": results}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


# --------------------------------------------------------------------------------------- report (parent)
def load_summary(d: Path, run: Run) -> dict | None:
    """A run's summary.json, or (run killed before the end) the snapshots its log printed so far."""
    if (d / "summary.json").exists():
        return json.loads((d / "summary.json").read_text())
    snaps = {}
    if (d / "log.txt").exists():
        for line in (d / "log.txt").read_text(errors="replace").splitlines():
            if line.startswith('{"run"'):
                rec = json.loads(line)
                snaps[f"{rec['minutes']:g}"] = rec
    if not snaps:
        return None
    return {"run": asdict(run), "model": f"{run.preset} (run stopped early)", "snapshots": snaps}



def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def report(summaries: list[dict], load: str) -> str:
    rows = ["| run (format) | CPU budget | steps | tokens seen | task | exact % | digit % | Goat-7B exact % |",
            "|---|---:|---:|---:|---|---:|---:|---:|"]
    for s in summaries:
        r = s["run"]
        for minute, snap in sorted(s["snapshots"].items(), key=lambda kv: float(kv[0])):
            for bk, ev in snap["eval"].items():
                op, shape = bk.split(":")
                a, b = shape.split("x")
                label = f"{a}D{dict(add='+', sub='-', mul='x', div='/')[op]}{b}D"
                rows.append(f"| {r['name']} (`{r['format']}`) | {float(minute):g} min | {snap['steps']:,} "
                            f"| {snap['tokens']:,} | {label} | {_pct(ev['exact_match'])} "
                            f"| {_pct(ev['digit_match'])} | {GOAT_7B.get(bk, '')} |")
    hit = []
    for s in summaries:
        for minute, snap in s["snapshots"].items():
            ev = snap["eval"]
            if all(ev.get(k, {}).get("exact_match", 0) >= 0.99 for k in ("add:16x16", "sub:16x16") if k in ev) and \
                    any(k in ev for k in ("add:16x16", "sub:16x16")):
                hit.append(f"{s['run']['name']} reached >= 99% on 16D+16D and 16D-16D at {float(minute):g} min")
            if ev.get("mul:6x6", {}).get("exact_match", 0) >= 0.95:
                hit.append(f"{s['run']['name']} reached >= 95% on 6Dx6D at {float(minute):g} min")
    targets = "; ".join(hit) if hit else "none of the runs reached the targets (>= 99% on 16D+16D / 16D-16D, >= 95% on 6Dx6D)"
    notes = []
    for s in summaries:
        last = max(s["snapshots"].values(), key=lambda x: float(x["minutes"]))
        if last["cpu_seconds"] > 0:
            notes.append(f"- {s['run']['name']}: {s['model']}, batch {s['run']['batch']}, lr {s['run']['lr']}: "
                         f"{last['steps']:,} steps and {last['tokens']:,} tokens in {last['cpu_seconds']:.0f} CPU-s "
                         f"({last['tokens'] / last['cpu_seconds']:,.0f} tokens/CPU-s), {last.get('wall_seconds', 0) / 60:.0f} "
                         f"wall minutes.")
    return (
        "Tiny LLaMA models (char tokenizer, bf16 autocast, eager attention, one thread each) trained from scratch "
        "on CPU on freshly sampled problems (operand lengths: the max of two uniform draws from 1..max), one data "
        "format per run, then scored by `mathwright eval arith` (full-answer exact match, digit match = 1 - CER; "
        "fresh problems of exactly the stated shape, greedy). Goat-7B (LoRA on LLaMA-7B, GPU) for reference from the "
        "paper.\n\n"
        "**Budgets are training CPU time of the run's one thread** (evaluation excluded), so the figures do not "
        "depend on what else ran on the machine; `wall` is the wall time the run took, which does. A run's earlier "
        "rows are its checkpoints at those minutes (constant-LR phase; the last 20% of the budget decays the "
        f"learning rate). 1-minute load average at the end: {load}.\n\n"
        "Formats: `aligned` = operands zero-padded to 16 digits and written least-significant digit first, answer "
        "LSB-first with the sign in front; `aligned-scratch` = the same, but subtraction writes "
        "`(a - b) mod 10^17` LSB-first and, when negative, `>-` and `|a - b|` (no comparison needed before the first "
        "digit); `aligned-scratch6` = operands padded to 6 digits, multiplication as fixed-width long "
        "multiplication (each partial product `a * d_j` and running sum, LSB-first). See `formats/padded.py`.\n\n"
        + "\n".join(rows) + f"\n\nTargets: {targets}.\n\nThroughput:\n" + "\n".join(notes) + "\n"
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", default="addsub-aligned,addsub-aligned-scratch,mul-aligned-scratch",
                    help=f"comma list of {', '.join(RUNS)}")
    ap.add_argument("--budgets", default="15,60", help="snapshot minutes; the largest is the training budget")
    ap.add_argument("--n", type=int, default=200, help="eval problems per shape")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=REPO / "runs" / "bench-arith-scratch")
    ap.add_argument("--no-results", action="store_true", help="do not write docs/RESULTS.md")
    ap.add_argument("--section", default="From-scratch arithmetic",
                    help="RESULTS section to write (a format comparison can go beside the main table)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--report-only", action="store_true", help="rebuild the RESULTS section from saved summaries")
    args = ap.parse_args(argv)
    names = [r for r in args.runs.split(",") if r]
    for r in names:
        if r not in RUNS:
            ap.error(f"unknown run {r!r}; known: {', '.join(RUNS)}")
    snaps = sorted(float(x) for x in args.budgets.split(","))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["MATHWRIGHT_NO_PROGRESS"] = "1"
    if args.child:
        run = RUNS[args.child]
        budget = min(snaps) if run.short else max(snaps)
        train_one(run, budget, [x for x in snaps if x <= budget], args.out / args.child, args.n, args.seed)
        return
    if not args.report_only:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
        procs = []
        for r in names:
            (args.out / r).mkdir(parents=True, exist_ok=True)
            (args.out / r / "summary.json").unlink(missing_ok=True)
            log = open(args.out / r / "log.txt", "w")
            cmd = [sys.executable, __file__, "--child", r, "--budgets", args.budgets, "--n", str(args.n),
                   "--seed", str(args.seed), "--out", str(args.out)]
            procs.append((r, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)))
        for r, p in procs:
            if p.wait() != 0:
                print(f"run {r} failed (exit {p.returncode}); see {args.out / r / 'log.txt'}", file=sys.stderr)
    summaries = [s for s in (load_summary(args.out / r, RUNS[r]) for r in names) if s]
    body = report(summaries, " / ".join(f"{x:.1f}" for x in os.getloadavg()))
    print(body)
    if not args.no_results and summaries:
        from mathwright.eval.results import update_section

        update_section(args.section, body, seed=args.seed,
                       command="python bench/arith_scratch.py " + " ".join(argv if argv is not None else sys.argv[1:]))


if __name__ == "__main__":
    main()
