"""The rerank job (``mathwright rerank``): score N sampled solutions per problem with a trained verifier and
report test@N, verifier@N, vote@N and top-k vote with their curves over N (:mod:`mathwright.eval.verifier_metrics`).

    from mathwright.eval.rerank import RerankConfig, run
    res = run(RerankConfig(samples=Path("runs/v/samples_test.jsonl"), out=Path("runs/v/rerank"),
                           verifier=Path("runs/v/verifier")))
    res["curves"]["verifier"]   # {N: accuracy}

Writes ``OUT/scores.json`` (with a verifier), ``OUT/metrics.json`` and ``OUT/curves.png``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from mathwright.io import DataError, InputError, check_output_path, read_records, write_json

SAMPLE_FIELDS = ("id", "question", "samples", "preds", "correct")
NS = (1, 2, 4, 8, 16, 32, 64, 100, 200, 400)  # the N of the curves (those below the samples drawn, and that)


@dataclass(frozen=True)
class RerankConfig:
    """``mathwright rerank --samples FILE --out DIR [--verifier DIR] ...``."""

    samples: Path                     # per-problem samples JSONL from sampling (samples, preds, correct)
    out: Path                         # output directory
    verifier: Optional[Path] = None   # verifier directory (None: voting metrics only)
    batch_size: int = 32
    aggregate: str = "last"           # a sample's score: value at the final token ('last') or the lowest ('min')
    seed: int = 0                     # the random N-subsets of the vote metrics

    def __post_init__(self) -> None:
        from mathwright.train.verifier_score import AGGREGATES

        if self.aggregate not in AGGREGATES:
            raise InputError(f"--aggregate must be one of {', '.join(AGGREGATES)}, got {self.aggregate!r}")
        if self.batch_size < 1:
            raise InputError(f"--batch-size must be >= 1, got {self.batch_size}")


def read_samples(path: Path) -> list[dict]:
    """The per-problem sample records of ``path``, each checked (fields, equal non-empty list lengths)."""
    recs = []
    for ln, r in read_records(path):
        for k in SAMPLE_FIELDS:
            if k not in r:
                raise DataError(path, ln, f"missing field {k!r}")
        lens = {k: len(r[k]) if isinstance(r[k], list) else None for k in ("samples", "preds", "correct")}
        if None in lens.values() or len(set(lens.values())) != 1 or not lens["samples"]:
            raise DataError(path, ln, "'samples', 'preds' and 'correct' must be non-empty lists of one length, got "
                                      + ", ".join(f"{k} {'not a list' if v is None else v}" for k, v in lens.items()))
        recs.append(r)
    if not recs:
        raise DataError(path, None, "no records")
    return recs


def run(cfg: RerankConfig) -> dict:
    """Score (with a verifier), evaluate and write; return the metrics (``evaluate``'s dict, with ``curves``)."""
    from mathwright.eval.verifier_metrics import evaluate, plot_curves

    check_output_path(cfg.out, directory=True)
    recs = read_samples(cfg.samples)
    scores = None
    if cfg.verifier is not None:
        from mathwright.solve.sampling import PROMPT
        from mathwright.train.verifier_model import load_verifier
        from mathwright.train.verifier_score import score

        model, tok = load_verifier(cfg.verifier)
        scores = {}
        for r in recs:
            scores[r["id"]] = score(model, tok, [PROMPT.format(question=r["question"])] * len(r["samples"]),
                                    r["samples"], batch_size=cfg.batch_size, aggregate=cfg.aggregate)
        write_json(cfg.out / "scores.json", scores)
    n = min(len(r["samples"]) for r in recs)
    ns = sorted({k for k in NS if k < n} | {n})
    res = evaluate(recs, scores, ns=ns, seed=cfg.seed)
    write_json(cfg.out / "metrics.json", res)
    plot_curves(res["curves"], cfg.out / "curves.png")
    return res
