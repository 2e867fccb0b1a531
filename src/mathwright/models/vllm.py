"""vLLM's offline engine as a ``Model`` (optional: ``pip install 'mathwright[vllm]'``).

Spec: ``vllm:PATH_OR_ID``. vLLM is imported only when such a spec is loaded; without it, loading fails
with an ``ImportError`` that says how to install it (or to serve the model with vLLM's own server and
use the ``http://`` backend instead).
"""
from __future__ import annotations

from typing import Any, Sequence

from mathwright.models.base import GenerationConfig, cut_at_stop

INSTALL_HINT = ("the vLLM backend needs the optional 'vllm' package: pip install 'mathwright[vllm]' "
                "(or run vLLM's OpenAI server and use the spec http://host:port/v1)")


class VLLMModel:
    """Completions from a ``vllm.LLM`` engine."""

    def __init__(self, llm: Any, name: str) -> None:
        self.llm, self.name = llm, name

    def generate(self, prompts: Sequence[str], cfg: GenerationConfig = GenerationConfig()) -> list[list[str]]:
        from vllm import SamplingParams

        greedy = not cfg.temperature or cfg.temperature <= 0
        params = SamplingParams(n=cfg.n, temperature=0.0 if greedy else cfg.temperature,
                                top_p=1.0 if greedy else cfg.top_p, max_tokens=cfg.max_new_tokens,
                                stop=list(cfg.stop) or None, seed=cfg.seed)
        outs = self.llm.generate(list(prompts), params, use_tqdm=False)
        return [[cut_at_stop(o.text, cfg.stop) for o in out.outputs] for out in outs]


def load(spec: str, **kwargs: Any) -> VLLMModel:
    """``load_model`` entry point for ``vllm:PATH_OR_ID``; extra keyword arguments go to ``vllm.LLM``."""
    path = spec[len("vllm:"):] if spec.startswith("vllm:") else spec
    if not path:
        raise ValueError("empty vLLM spec: expected vllm:PATH_OR_ID")
    try:
        import vllm
    except ImportError as e:
        raise ImportError(f"{INSTALL_HINT} [{e}]") from None
    kwargs = {k: v for k, v in kwargs.items() if k not in ("threads", "device", "gguf_file")}
    if kwargs.get("dtype") in ("bf16", "fp16", "fp32"):  # our short names -> vLLM's
        kwargs["dtype"] = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}[kwargs["dtype"]]
    llm = vllm.LLM(model=path, **kwargs)
    return VLLMModel(llm, spec)
