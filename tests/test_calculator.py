"""The GSM8K calculator: exact safe evaluation, hostile inputs, and calculator-augmented decoding."""
from __future__ import annotations

import gc
import time
from fractions import Fraction

import pytest

from mathwright.models.base import GenerationConfig, cut_at_stop
from mathwright.solve.calculator import (CalcError, annotation_result, calc, calculator_generate, evaluate,
                                         format_number)


@pytest.mark.parametrize("expr,want", [
    ("16-3-4", "9"), ("9*2", "18"), ("96/3", "32"), ("12/60", "0.2"), ("0.2*50", "10"), ("2*(3+4)", "14"),
    ("1,600*2", "3200"), ("-5+2", "-3"), ("10/4", "2.5"), ("1/8", "0.125"), ("10/3", "10/3"), ("3.50*4", "14"),
    ("(((1)))", "1"), (" 7 * 6 ", "42"), ("-(2-5)", "3"), ("2.", "2"), (".5*4", "2"),
])
def test_exact_values_and_formatting(expr: str, want: str) -> None:
    assert calc(expr) == want


def test_integers_never_print_dot_zero() -> None:
    assert all("." not in calc(f"{a}*{b}/{b}") for a in range(1, 30) for b in (2, 4, 5, 8))
    assert format_number(Fraction(-7, 4)) == "-1.75"


@pytest.mark.parametrize("expr", [
    "9**9**9",                       # power is not an operator at all
    "2**10",
    "__import__('os').system('ls')",
    "().__class__",
    "1e999",                         # no exponent notation
    "1/0",
    "5/(3-3)",
    "1" * 31,                        # too many digits in one number
    "(" * 40 + "1" + ")" * 40,       # too deep
    "(" * 300 + "1" + ")" * 300,     # too long
    "-" * 100 + "1",                 # deep unary chain
    "*".join(["999999999999"] * 6),  # intermediate result beyond the cap
    "1+", "(1+2", "1 2", "", "abc", "2^3", "7 % 2", "1//2",
])
def test_hostile_and_malformed_rejected_fast(expr: str) -> None:
    # CPU time with the collector off: a scheduling stall or a full collection of the suite's heap is not the
    # evaluator's cost (CI saw 0.38 s wall and 0.26 s CPU on a call that takes 0.1 ms alone)
    gc.collect()
    gc.disable()
    try:
        t = time.process_time()
        with pytest.raises(CalcError):
            evaluate(expr)
        spent = time.process_time() - t
    finally:
        gc.enable()
    assert spent < 0.05


def test_bounded_sizes_still_allowed() -> None:
    assert calc("9" * 30 + "+1") == "1" + "0" * 30
    assert evaluate("(" * 20 + "2" + ")" * 20) == 2


def test_annotation_result() -> None:
    assert annotation_result("She makes 9 * 2 = $<<9*2=") == "18>>"
    assert annotation_result("x <<48/2=") == "24>>"
    assert annotation_result("<<1+1=2>> and 3 =") is None     # no open annotation
    assert annotation_result("<<1**2=") is None                # bad expression: left to the model
    assert annotation_result("16 - 3 - 4 = ") is None


# ------------------------------------------------------------------------- a scripted "model"
DOC = "Q: 3 boxes of 4 apples and 5 more?\nA: 3 * 4 = <<3*4=12>>12 apples.\n12 + 5 = <<12+5=17>>17 apples.\n#### 17"
WRONG = "99>>99\n#### 99"  # what this model writes whenever it must compute an annotation value itself


class ScriptedModel:
    """A character-level fake that knows DOC's text but is bad at arithmetic: inside ``<<expr=`` it writes
    99. It honours stop strings, ``max_new_tokens`` and ``n`` like a real backend (EOS at DOC's end)."""

    name = "scripted"

    def __init__(self) -> None:
        self.calls = 0

    def next_char(self, x: str) -> str | None:
        if DOC.startswith(x):
            if x == DOC:
                return None
            k = x.rfind("<<")
            if k != -1 and ">>" not in x[k:] and x.endswith("="):
                return WRONG[0]
            return DOC[len(x)]
        k = 0
        while k < len(x) and k < len(DOC) and x[k] == DOC[k]:
            k += 1
        done = x[k:]
        return WRONG[len(done)] if len(done) < len(WRONG) else None

    def generate(self, prompts, cfg: GenerationConfig) -> list[list[str]]:
        self.calls += 1
        outs = []
        for p in prompts:
            text = ""
            for _ in range(cfg.max_new_tokens):
                c = self.next_char(p + text)
                if c is None:
                    break
                text += c
                if any(s and s in text for s in cfg.stop):
                    break
            outs.append([cut_at_stop(text, cfg.stop)] * cfg.n)
        return outs


def test_scripted_model_is_wrong_without_calculator() -> None:
    out = ScriptedModel().generate(["Q: 3 boxes of 4 apples and 5 more?\nA: "], GenerationConfig(max_new_tokens=200))
    assert "<<3*4=99>>" in out[0][0] and out[0][0].endswith("#### 99")


def test_calculator_generate_inserts_correct_results_generic_backend() -> None:
    m = ScriptedModel()
    prompt = "Q: 3 boxes of 4 apples and 5 more?\nA: "
    out = calculator_generate(m, [prompt], GenerationConfig(max_new_tokens=200, n=2))
    assert len(out) == 1 and len(out[0]) == 2
    for text in out[0]:
        assert prompt + text == DOC  # both results came from the calculator, the model wrote the rest
    assert m.calls > 2  # stop, inject, continue


def test_calculator_generate_respects_user_stop() -> None:
    out = calculator_generate(ScriptedModel(), ["Q: 3 boxes of 4 apples and 5 more?\nA: "],
                              GenerationConfig(max_new_tokens=200, stop=("\n12 +",)))
    assert out[0][0] == "3 * 4 = <<3*4=12>>12 apples."


def test_hf_logits_processor_forces_result() -> None:
    """An untrained tiny HF model: when the prompt ends inside ``<<60*4=`` every sample starts with ``240>>``."""
    torch = pytest.importorskip("torch")
    from mathwright.models.hf import load

    torch.set_num_threads(1)
    m = load("tiny-100k")
    prompt = "Q: 60 miles an hour for 4 hours?\nA: 60 * 4 = <<60*4="
    outs = calculator_generate(m, [prompt, "Q: x\nA: <<7*6="], GenerationConfig(max_new_tokens=8, n=3, temperature=1.0))
    assert all(o.startswith("240>>") for o in outs[0])
    assert all(o.startswith("42>>") for o in outs[1])


@pytest.mark.slow
def test_calculator_generate_over_live_http() -> None:
    """The generic path through a real OpenAI-compatible server: ``mathwright serve``'s app (uvicorn on
    loopback) serving the arithmetic-blind scripted model, our HTTP backend as the client."""
    import socket
    import threading
    import time

    import uvicorn

    from mathwright.models.http import HTTPModel
    from mathwright.models.serve import build_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    scripted = ScriptedModel()
    server = uvicorn.Server(uvicorn.Config(build_app(scripted, "scripted"), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        assert server.started
        remote = HTTPModel(f"http://127.0.0.1:{port}/v1", "scripted")
        prompt = "Q: 3 boxes of 4 apples and 5 more?\nA: "
        plain = remote.generate([prompt], GenerationConfig(max_new_tokens=200))[0][0]
        assert "<<3*4=99>>" in plain                                  # over HTTP the model is still wrong alone
        out = calculator_generate(remote, [prompt], GenerationConfig(max_new_tokens=200, n=2))
        assert [prompt + t for t in out[0]] == [DOC, DOC]             # stop at "=", inject, continue: exact
        assert scripted.calls > 3
    finally:
        server.should_exit = True
        thread.join(timeout=10)
