"""Model backends behind one ``Model`` interface: HF local, OpenAI-compatible HTTP, vLLM, tiny models."""
from mathwright.models.base import BACKENDS, GenerationConfig, Model, backend_for, load_model

__all__ = ["BACKENDS", "GenerationConfig", "Model", "check_model", "load_model"]


def check_model(spec: str) -> None:
    """Raise :class:`~mathwright.io.InputError` ("no model at SPEC") when a local model spec names nothing,
    before any output is written; URLs and engine prefixes (``vllm:``, ``llamacpp:``) are checked by their
    backends when they load (transformers is imported only for a local spec)."""
    if spec != "oracle" and backend_for(spec) == "hf":
        from mathwright.models.hf import check_spec

        check_spec(spec)
