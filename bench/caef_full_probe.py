"""Side-by-side probe of full-format training recipes: same stream, same steps, teacher-forced step accuracy.

Why: the first dedicated full-format run (RESULTS "CAEF full format, learned") reached a loss of 0.02 and 0%
exact: the first wrong step was on the command line in 75-97% of failures. A full-format response is ~150
characters of state, nearly all copied, and 1-2 characters of arithmetic; the mean loss hardly sees the latter.
This probe trains one model per recipe for the same number of optimizer steps on the same stream and measures,
on fresh steps of the evaluation lengths (teacher forced: the model's argmax at every response position, i.e.
what greedy decoding would write given a correct prefix), the share of responses reproduced exactly, the share
whose command lines are exact, and the share whose state lines are exact.

    OMP_NUM_THREADS=2 python bench/caef_full_probe.py --out runs/caef_probe --steps 600 \\
        --recipes "w1:cmd_weight=1" "w10:cmd_weight=10"

Prints a table and writes ``probe.json``; finished recipes are kept on a rerun (each trains in its own
directory through ``train_full``, which resumes).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

from mathwright.solve.caef_full import Mix, _tensors, command_tokens, encode, micro_batches, train_full  # noqa: E402


def step_accuracy(model, tok, pairs: list[tuple[str, str]], micro_tokens: int = 16_384) -> dict[str, float]:
    """Teacher-forced exactness of whole responses, their command lines and their state lines."""
    import torch

    seqs = encode(tok, pairs)
    by_ids = {id(s): pr for s, pr in zip(seqs, pairs)}
    exact = cmd = state = 0
    model.eval()
    for group in micro_batches(seqs, micro_tokens):
        X, Y, M, _ = _tensors(group, tok.pad_token_id)
        with torch.inference_mode():
            pred = model(input_ids=X, attention_mask=M, use_cache=False).logits.argmax(-1)
        for r, s in enumerate(group):
            x, pl, _ = s
            resp = by_ids[id(s)][1]
            ok = (pred[r, pl - 1:len(x) - 1] == torch.tensor(x[pl:])).tolist()
            mask = command_tokens(tok, resp)[1] + [True]  # EOS counts with the command (it ends the step)
            exact += all(ok)
            cmd += all(o for o, m in zip(ok, mask) if m)
            state += all(o for o, m in zip(ok, mask) if not m)
    n = len(pairs)
    return {"exact": 100 * exact / n, "command": 100 * cmd / n, "state": 100 * state / n}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="runs/caef_probe")
    ap.add_argument("--recipes", nargs="+", default=["w1:cmd_weight=1", "w10:cmd_weight=10"],
                    help="NAME:key=value,... with keys cmd_weight, lr, preset, batch_tokens, tokenizer (char|caef)")
    ap.add_argument("--mix", default="add:1-12")
    ap.add_argument("--eval", default="add:10", help="mix of the evaluation steps (fresh problems)")
    ap.add_argument("--n-eval", type=int, default=400)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    res_path = out / "probe.json"
    results = json.loads(res_path.read_text()) if res_path.exists() else {}
    eval_pairs = Mix.parse(args.eval).sample(random.Random(f"{args.seed}|probe-eval"), args.n_eval, "fixed")
    for spec in args.recipes:
        name, _, kv = spec.partition(":")
        if name in results:
            continue
        kw: dict = {"cmd_weight": 1.0, "lr": 2e-3, "preset": "tiny-1m", "batch_tokens": 12_288}
        for item in filter(None, kv.split(",")):
            k, _, v = item.partition("=")
            kw[k] = v if k in ("preset", "tokenizer") else (int(v) if k == "batch_tokens" else float(v))
        t0 = time.time()
        model, tok, st = train_full(Mix.parse(args.mix), out / name, minutes=10_000, max_steps=args.steps,
                                    seed=args.seed, threads=args.threads, log_every=50, **kw)
        acc = step_accuracy(model, tok, eval_pairs)
        results[name] = dict(recipe=kw, steps=st.step, tokens=st.tokens, loss=st.loss,
                             train_min=st.train_seconds / 60, cpu_min=st.cpu_seconds / 60,
                             wall_min=(time.time() - t0) / 60, **acc)
        tmp = res_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(results, indent=1) + "\n")
        os.replace(tmp, res_path)
        print(name, results[name], flush=True)
    print(f"\n| recipe | steps | tokens | loss | train min | exact % | command % | state % |  (eval {args.eval}, "
          f"n = {args.n_eval}, teacher forced)")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['steps']} | {r['tokens']:,} | {r['loss']:.4f} | {r['train_min']:.1f} | "
              f"{r['exact']:.1f} | {r['command']:.1f} | {r['state']:.1f} |")


if __name__ == "__main__":
    main()
