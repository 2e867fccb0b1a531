"""Every benchmark loader reads its real file with the counts of the data README; bad files name file:line."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from mathwright.data.benchmarks import BENCHMARKS, MAMMOTH_NINE, data_root, load_benchmark
from mathwright.data.io import DataError
from mathwright.eval.score import score

EXPECTED = {  # from ../shared/data/README.md
    "gsm8k": (1319, {"number": 1319}),
    "math": (5000, {"expression": 5000}),
    "aqua": (254, {"choice": 254}),
    "numglue": (1042, {"number": 877, "choice": 162, "expression": 3}),
    "svamp": (1000, {"number": 1000}),
    "deepmind": (1000, {"number": 958, "expression": 42}),
    "simuleq": (514, {"number": 514}),
    "sat": (220, {"choice": 220}),
    "mmlu_mathematics": (974, {"choice": 974}),
}


@pytest.mark.parametrize("name", MAMMOTH_NINE)
def test_loader_counts(name: str, shared_data: Path) -> None:
    probs = load_benchmark(name, root=shared_data)
    n, types = EXPECTED[name]
    assert len(probs) == n == BENCHMARKS.get(name).n
    assert dict(Counter(p.answer_type for p in probs)) == types
    assert len({p.id for p in probs}) == n  # ids are unique (resume keys)
    for p in probs:
        if p.answer_type == "choice":
            assert p.gold in "ABCDE"[:max(2, len(p.choices))], p


def test_gold_distributions(shared_data: Path) -> None:
    assert Counter(p.gold for p in load_benchmark("aqua", root=shared_data)) == \
        {"A": 63, "B": 58, "C": 46, "D": 53, "E": 34}
    assert Counter(p.gold for p in load_benchmark("mmlu_mathematics", root=shared_data)) == \
        {"A": 215, "B": 242, "C": 247, "D": 270}
    gsm = load_benchmark("gsm8k", root=shared_data)
    assert sum(p.gold.startswith("-") for p in gsm) == 2 and all("," not in p.gold for p in gsm)
    assert len(load_benchmark("gsm8k_train", root=shared_data)) == 7473


def test_prompts_keep_content(shared_data: Path) -> None:
    aqua = load_benchmark("aqua", root=shared_data)[0]
    assert aqua.choices[0] == "5(√3 + 1)" and "(A) 5(√3 + 1) (B)" in aqua.question  # no re-spacing
    sv = load_benchmark("svamp", root=shared_data)[0]
    assert sv.question.startswith("Each pack of dvds costs 76 dollars.") and sv.gold == "51"
    assert load_benchmark("sat", root=shared_data)[0].choices == ("2", "4", "9", "10")


def test_every_gold_grades_itself(shared_data: Path) -> None:
    # the scorer can reach every gold (no MAmmoTH-style ceiling), MATH on a sample to stay fast
    for name in MAMMOTH_NINE:
        for p in load_benchmark(name, limit=300 if name == "math" else None, seed=1, root=shared_data):
            out = f"The answer is ({p.gold})." if p.answer_type == "choice" else f"The answer is {p.gold}."
            if name == "math":
                out = f"\\boxed{{{p.gold}}}"
            assert score(name, out, p.gold, p.answer_type, p.choices)["correct"], (name, p.id, p.gold)


def test_seeded_subsample(shared_data: Path) -> None:
    a = load_benchmark("gsm8k", limit=200, seed=0, root=shared_data)
    b = load_benchmark("gsm8k", limit=200, seed=0, root=shared_data)
    c = load_benchmark("gsm8k", limit=200, seed=1, root=shared_data)
    assert [p.id for p in a] == [p.id for p in b] != [p.id for p in c]
    assert len(a) == 200 and len({p.id for p in a}) == 200
    small = load_benchmark("gsm8k", limit=50, seed=0, root=shared_data)
    assert {p.id for p in small} < {p.id for p in a}  # nested subsets
    assert len(load_benchmark("sat", limit=10_000, root=shared_data)) == 220


def test_bad_files_name_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "gsm8k").mkdir()
    f = tmp_path / "gsm8k" / "test.jsonl"
    f.write_text('{"question": "q", "answer": "#### 3"}\n{"question": "q2"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"test.jsonl:2"):
        load_benchmark("gsm8k", root=tmp_path)
    f.write_text('{"question": "q", "answer": "no hashes"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"test.jsonl:1: gsm8k: bad record"):
        load_benchmark("gsm8k", root=tmp_path)
    (tmp_path / "sat").mkdir()
    (tmp_path / "sat" / "sat.json").write_text(json.dumps([{"question": "x", "answer": "Z"}]))
    with pytest.raises(DataError, match=r"sat.json:1: .*not a letter"):
        load_benchmark("sat", root=tmp_path)
    with pytest.raises(DataError, match="no such file"):
        load_benchmark("svamp", root=tmp_path)
    with pytest.raises(KeyError, match="did you mean 'gsm8k'"):
        load_benchmark("gsm8", root=tmp_path)


def test_data_root_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MATHWRIGHT_DATA", str(tmp_path))
    assert data_root() == tmp_path
    monkeypatch.delenv("MATHWRIGHT_DATA")
    assert data_root().parts[-2:] == ("shared", "data")
