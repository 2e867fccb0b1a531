"""MathInstruct-style hybrid data: every emitted PoT program prints its gold answer in the sandbox, the CoT
and PoT records of a problem agree, the layout loads with ``datasets``, the yield is reported, and the
same seed gives the same bytes."""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mathwright.arith.problem import Problem
from mathwright.cli.apps import app
from mathwright.data.mathinstruct import MathInstructConfig, build, generate_mathinstruct, meta_path, write_records
from mathwright.formats import pot
from mathwright.formats.registry import FORMATS

pytestmark = pytest.mark.slow
ANSWER = re.compile(r"The answer is (.+)\.$")


@pytest.fixture(scope="module")
def pool():
    from mathwright.sandbox import Limits, SandboxPool

    with SandboxPool(limits=Limits(), workers=2) as p:
        yield p


@pytest.fixture(scope="module")
def sample_gsm8k(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 seeded GSM8K train problems (a tampered copy of one is appended separately where needed)."""
    lines = (shared_data / "gsm8k" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    keep = sorted(random.Random(7).sample(range(len(lines)), 200))
    path = tmp_path_factory.mktemp("gsm") / "train200.jsonl"
    path.write_text("\n".join(lines[i] for i in keep) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def built(sample_gsm8k: Path, pool) -> tuple[list[dict], dict]:
    cfg = MathInstructConfig(gsm8k_path=sample_gsm8k, n_arith=24, n_word=30, seed=3)
    return build(cfg, pool=pool)


def cot_answer(rec: dict) -> str:
    if rec["source"].endswith("goat"):
        return FORMATS.get("goat").parse(rec["output"])
    m = ANSWER.search(rec["output"])
    assert m, rec["output"]
    return m.group(1)


def test_every_emitted_program_prints_its_gold_and_agrees_with_its_cot(built, pool) -> None:
    records, meta = built
    cots = {r["instruction"]: r for r in records if "/CoT/" in r["source"]}
    pots = [r for r in records if "/PoT/" in r["source"]]
    assert len(pots) >= 200  # most of the 254 problems keep a program
    golds = []
    for p in pots:
        assert p["instruction"].endswith(pot.TRIGGER)
        twin = cots[p["instruction"][: -len(pot.TRIGGER)]]  # the CoT record of the same problem
        golds.append(cot_answer(twin))
    # re-run every emitted program independently of the builder's filter
    runs = pool.map([p["output"] for p in pots])
    for p, r, gold in zip(pots, runs, golds):
        assert r.status == "ok", (p["output"], r.error)
        assert pot.numbers_equal(pot.printed_answer(r.stdout), gold), (p["output"], r.stdout, gold)
    sources = {r["source"] for r in records}
    assert sources == {f"mathwright/{k}/{s}" for k in ("CoT", "PoT") for s in ("gsm8k_train", "goat", "word_problems")}


def test_cot_records_check_and_yield_is_reported(built) -> None:
    records, meta = built
    g = meta["sources"]["gsm8k"]
    assert g["problems"] == 200 and g["cot_kept"] + g["cot_rejected"] == 200
    assert 0.85 <= g["pot_yield"] < 1.0  # MAmmoTH's filter really drops programs on real GSM8K
    assert g["pot_kept"] + sum(g["failures"].values()) == 200
    assert meta["sources"]["arith"]["pot_yield"] == 1.0 and meta["sources"]["word-problems"]["pot_yield"] == 1.0
    assert meta["records"] == len(records)
    for r in records:
        assert list(r) == ["instruction", "output", "source"]
        if "/CoT/" in r["source"] and not r["source"].endswith("goat"):
            assert "<<" not in r["output"]  # --no-calculator is the default


def test_a_wrong_solution_is_filtered_out(tmp_path: Path, pool) -> None:
    good = {"question": "Tom has 3 bags of 4 apples. How many apples?", "answer": "3*4 = <<3*4=12>>12 apples.\n#### 12"}
    # the stated final answer disagrees with the computation: its program prints 12, not 13
    wrong = {"question": "Ann has 2 bags of 5 pears. How many pears?", "answer": "2*5 = <<2*5=10>>10 pears.\n#### 13"}
    bad_step = {"question": "Bo has 2 and 2.", "answer": "2+2 = <<2+2=5>>5.\n#### 5"}
    src = tmp_path / "g.jsonl"
    src.write_text("\n".join(json.dumps(x) for x in (good, wrong, bad_step)) + "\n")
    records, meta = build(MathInstructConfig(sources=("gsm8k",), gsm8k_path=src, calculator=True), pool=pool)
    g = meta["sources"]["gsm8k"]
    assert g["pot_kept"] == 1 and g["failures"]["wrong_answer"] == 1 and g["cot_rejected"] == 1
    assert [r["source"].split("/")[1] for r in records] == ["CoT", "PoT", "CoT"]
    assert "<<3*4=12>>" in records[0]["output"]  # --calculator keeps the annotations


def test_layout_loads_with_datasets(built, tmp_path: Path) -> None:
    from datasets import load_dataset

    records, _ = built
    for name in ("mi.jsonl", "mi.json"):
        out = tmp_path / name
        write_records(out, records)
        ds = load_dataset("json", data_files=str(out), split="train")
        assert ds.column_names == ["instruction", "output", "source"] and len(ds) == len(records)
        assert ds[1] == records[1]


def test_same_seed_same_bytes_for_any_worker_count(sample_gsm8k: Path, tmp_path: Path, pool) -> None:
    kw = dict(gsm8k_path=sample_gsm8k, n_gsm8k=15, n_arith=12, n_word=10, seed=5)
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    generate_mathinstruct(MathInstructConfig(**kw), a, pool=pool)
    generate_mathinstruct(MathInstructConfig(**kw, workers=1), b)  # its own one-worker sandbox
    generate_mathinstruct(MathInstructConfig(**{**kw, "seed": 6}), c, pool=pool)
    assert a.read_bytes() == b.read_bytes() and meta_path(a).read_bytes() == meta_path(b).read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_cli_writes_data_and_sidecar_and_rejects_bad_input(sample_gsm8k: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "mi.jsonl"
    res = runner.invoke(app, ["generate", "mathinstruct", "--out", str(out), "--gsm8k", str(sample_gsm8k),
                              "--n-gsm8k", "10", "--n-arith", "6", "--n-word", "4", "--seed", "1"])
    assert res.exit_code == 0, res.output
    assert "yield" in res.output and "total" in res.output
    meta = json.loads(meta_path(out).read_text())
    assert meta["total"]["problems"] == 20 and meta["records"] == len(out.read_text().splitlines())
    bad = tmp_path / "bad.jsonl"
    res = runner.invoke(app, ["generate", "mathinstruct", "--out", str(bad), "--sources", "gsm8k,nope"])
    assert res.exit_code == 2 and "valid sources" in res.output and not bad.exists()
    res = runner.invoke(app, ["generate", "mathinstruct", "--out", str(tmp_path / "x.csv")])
    assert res.exit_code == 2


def test_arithmetic_programs_print_goat_answers_in_the_sandbox(pool) -> None:
    probs = [Problem("add", 123456789, 987654321), Problem("sub", 5, 9), Problem("mul", 12345678, 87654321),
             Problem("div", 17, 5), Problem("div", 20, 5), Problem("div", 3, 0), Problem("div", 17, -5),
             Problem("div", -17, 5), Problem("lt", 3, 2), Problem("eq", 4, 4), Problem("gt", 9, 2)]
    checks = pot.check_many([pot.problem_to_program(p) for p in probs], [p.answer_text() for p in probs], pool=pool)
    assert [c.got for c in checks] == [p.answer_text() for p in probs]
    assert all(c.ok for c in checks)
    # the check can fail: a program printing something else is rejected with its status
    bad = pot.check_many(["print(41)", "raise ValueError('x')", None], ["42", "1", "1"], pool=pool)
    assert [b.status for b in bad] == ["wrong_answer", "error", "no_program"] and not any(b.ok for b in bad)
