"""Model backends behind one ``Model`` interface: HF local, OpenAI-compatible HTTP, vLLM, tiny models."""
from mathwright.models.base import BACKENDS, GenerationConfig, Model, load_model

__all__ = ["BACKENDS", "GenerationConfig", "Model", "load_model"]
