"""Give a finished ``bench/verifier.py`` run more samples per verifier-training problem, in a new run directory.

The new directory reuses the old run's problems, generator, held-out problems and held-out samples, so verifiers
trained on more samples per problem are compared with the old ones on identical test samples. The extra samples are
drawn from the same generator at the old run's temperature, the first half of the problems with seed 1000 and the
second with seed 2000 (one process each), and appended to each problem's old samples. Then run the bench on the new
directory with ``train_samples`` and ``max_samples_per_problem_for_training`` set to the new count:

  python bench/verifier_more_samples.py --run runs/bench_verifier3 --out runs/bench_verifier4 --extra 40
  python bench/verifier.py --out runs/bench_verifier4 --set ... train_samples=60 max_samples_per_problem_for_training=60

Resumable: each half's samples are logged per problem as they finish.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from verifier import parallel  # noqa: E402  (the bench's process pool)


def draw(run: Path, out: Path, problems: list[dict], half: int, extra: int, sizes: dict) -> str:
    import torch

    from mathwright.models.hf import load
    from mathwright.solve.sampling import sample_problems

    torch.set_num_threads(1)
    model = load(str(run / "generator" / "model"), dtype="float32")
    path = out / f"extra_{half}.jsonl"
    sample_problems(model, problems, path, n=extra, temperature=sizes["temperature"],
                    max_new_tokens=sizes["max_new_tokens"], seed=1000 * (half + 1),
                    problems_per_batch=sizes["problems_per_batch"], progress=False)
    return str(path)


def main() -> None:
    from mathwright.data.io import atomic_write, dumps, read_jsonl

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="a finished bench/verifier.py run directory")
    ap.add_argument("--out", required=True, help="the new run directory")
    ap.add_argument("--extra", type=int, required=True, help="samples to add per verifier-training problem")
    a = ap.parse_args()
    run, out = Path(a.run), Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    sizes = json.loads((run / "sizes.json").read_text())
    old = [r for _, r in read_jsonl(run / "samples_train.jsonl")]
    for name in ("gen_train.jsonl", "test.jsonl", "samples_test.jsonl"):
        if not (out / name).exists():
            shutil.copyfile(run / name, out / name)
    if not (out / "generator").exists():
        shutil.copytree(run / "generator", out / "generator")
    test = [r for _, r in read_jsonl(run / "samples_test.jsonl")]
    h = len(test) // 2  # the bench's two-worker layout reads the held-out samples in two halves
    for name, recs in (("samples_test_a.jsonl", test[:h]), ("samples_test_b.jsonl", test[h:])):
        with atomic_write(out / name) as f:
            f.writelines(dumps(r) + "\n" for r in recs)

    t = time.time()
    h = len(old) // 2
    paths = parallel([(draw, run, out, old[:h], 0, a.extra, sizes), (draw, run, out, old[h:], 1, a.extra, sizes)], 2)
    extra = {r["id"]: r for p in paths for _, r in read_jsonl(p)}
    merged = []
    for r in old:
        e = extra[r["id"]]
        merged.append({**r, "seed": [r["seed"], e["seed"]], "samples": r["samples"] + e["samples"],
                       "preds": r["preds"] + e["preds"], "correct": r["correct"] + e["correct"]})
    with atomic_write(out / "samples_train.jsonl") as f:
        f.writelines(dumps(r) + "\n" for r in merged)
    times = json.loads((run / "times.json").read_text())
    tpath = out / "times.json"
    now = json.loads(tpath.read_text()) if tpath.exists() else {}
    keep = {k: times[k] for k in ("generator training", "sampling") if k in times}
    keep["extra training samples (2 processes)"] = now.get("extra training samples (2 processes)", round(time.time() - t, 1))
    tpath.write_text(json.dumps(keep, indent=1))
    n = len(merged[0]["samples"])
    acc = sum(sum(r["correct"]) for r in merged) / sum(len(r["correct"]) for r in merged)
    print(f"{len(merged)} problems x {n} samples in {out / 'samples_train.jsonl'} (sample accuracy {acc:.3f})")


if __name__ == "__main__":
    main()
