"""``mathwright check --format gsm`` and ``--format pot`` (issue 20): valid files exit 0; a broken record is
reported as ``FILE:line N: problem`` and the command exits 1."""
from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mathwright.cli import app
from mathwright.data.word_problems import generate_word_problems
from mathwright.formats import pot

runner = CliRunner()

GSM = [
    {"question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.",
     "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
               "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72"},
    {"question": "Three friends share 10 cookies. How many does each get?",
     "answer": "Each gets 10/3 = <<10/3=3.33>>3.33 cookies.\n#### 3.33"},  # real GSM8K rounds like this
]


def _write(path: Path, recs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return path


def _check(*args: str):
    return runner.invoke(app, ["check", *args])


def test_gsm_valid_records_exit_0(tmp_path: Path) -> None:
    recs = GSM + generate_word_problems(5, seed=3)  # real-style and our generated records alike
    r = _check("--format", "gsm", str(_write(tmp_path / "g.jsonl", recs)))
    assert r.exit_code == 0, r.output
    assert "7 records" in r.output and "all valid" in r.output


def test_gsm_broken_records_name_file_line_and_problem(tmp_path: Path) -> None:
    wrong = dict(GSM[0], answer=GSM[0]["answer"].replace("<<48+24=72>>", "<<48+24=73>>"))
    no_final = dict(GSM[0], answer=GSM[0]["answer"].split("####")[0])
    path = _write(tmp_path / "g.jsonl", [GSM[1], wrong, no_final, {"question": "q"}])
    r = _check("--format", "gsm", str(path))
    assert r.exit_code == 1, r.output
    assert f"{path}:line 2: solution line 2: annotation <<48+24=73>>: 48+24 = 72, not 73" in r.output
    assert f"{path}:line 3: no final '#### N' line" in r.output
    assert f"{path}:line 4: no 'answer' string" in r.output
    assert "3 INVALID" in r.output and "Traceback" not in r.output


def test_gsm_unreadable_line_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "g.jsonl"
    path.write_text(json.dumps(GSM[0]) + "\n{oops\n")
    r = _check("--format", "gsm", str(path))
    assert r.exit_code == 2 and f"{path}:2: not JSON" in r.output, r.output


def test_pot_valid_records_exit_0(tmp_path: Path) -> None:
    recs = [pot.render(p) for p in GSM[:1]]
    recs.append({"instruction": "What is 2 + 3?" + pot.TRIGGER, "output": "```python\nprint(2 + 3)\n```",
                 "answer": "5"})
    recs.append({"instruction": "x" + pot.TRIGGER, "output": "print(7)", "source": "mathwright/PoT/x"})  # no answer
    r = _check("--format", "pot", str(_write(tmp_path / "p.jsonl", recs)))
    assert r.exit_code == 0, r.output
    assert "3 records (pot 3); all valid" in r.output


def test_pot_broken_records_name_file_line_and_problem(tmp_path: Path) -> None:
    good = pot.render(GSM[0])
    recs = [good, dict(good, answer="73"), dict(good, output="x = 1 / 0\nprint(x)"),
            dict(good, output="The answer is 72."), {"instruction": "x", "answer": "1"},
            {"instruction": "x", "output": "y = 1"}]
    path = _write(tmp_path / "p.jsonl", recs)
    r = _check("--format", "pot", str(path), "--workers", "2")
    assert r.exit_code == 1, r.output
    assert f"{path}:line 2: the program prints '72.0', the answer is '73'" in r.output
    assert f"{path}:line 3: the program failed in the sandbox (error: ZeroDivisionError" in r.output
    assert f"{path}:line 4: no program in 'output'" in r.output
    assert f"{path}:line 5: no 'output' string" in r.output
    assert f"{path}:line 6: no program in 'output'" in r.output
    assert "5 INVALID" in r.output and "Traceback" not in r.output
