"""The ``Model`` interface every solver shares, and ``load_model`` which picks a backend by spec.

A backend turns prompts into completions: ``generate(prompts, cfg)`` returns, for each prompt,
``cfg.n`` completion strings with the prompt removed and cut at the first stop string (the stop
string itself is not included).

Specs understood by :func:`load_model` (first matching backend wins):

- ``http://host:port/v1[#model-name]``  an OpenAI-compatible server (``models/http.py``)
- ``vllm:PATH_OR_ID``                   vLLM offline engine, optional extra (``models/vllm.py``)
- ``llamacpp:PATH.gguf``                 llama.cpp via llama-cpp-python, optional extra (``models/llamacpp.py``)
- ``PATH/TO/file.gguf`` or ``PATH_OR_HUB_ID``  transformers, locally (``models/hf.py``)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence, runtime_checkable

from mathwright.io import InputError
from mathwright.registry import Registry


@dataclass(frozen=True)
class GenerationConfig:
    """Decoding settings shared by every backend."""

    max_new_tokens: int = 256
    temperature: float = 0.0  # 0 means greedy
    top_p: float = 1.0
    n: int = 1  # completions per prompt (the prompt's KV cache is shared where the backend can)
    stop: tuple[str, ...] = ()
    seed: int = 0
    batch_size: int = 16


@runtime_checkable
class Model(Protocol):
    """Anything that completes prompts."""

    name: str

    def generate(self, prompts: Sequence[str], cfg: GenerationConfig) -> list[list[str]]:
        """For each prompt, ``cfg.n`` completions (prompt removed, cut before the first stop string)."""
        ...


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """Cut ``text`` before the earliest stop string.

    >>> cut_at_stop("12 + 3 = 15\\nQuestion: next", ["\\nQuestion:"])
    '12 + 3 = 15'
    """
    cut = len(text)
    for s in stop:
        if s:
            i = text.find(s)
            if i != -1:
                cut = min(cut, i)
    return text[:cut]


class MissingEngine(InputError, ImportError):
    """A spec names an engine whose optional package is not installed (the message says how to install it).
    An ``InputError``, so the CLI prints it as one ``error:`` line and exits 2."""

    def __init__(self, package: str, message: str) -> None:
        super().__init__(message)
        self.package = package


# name -> "module:loader"
BACKENDS: Registry = Registry("model backends")
BACKENDS.add("http", "mathwright.models.http:load")
BACKENDS.add("vllm", "mathwright.models.vllm:load")
BACKENDS.add("llamacpp", "mathwright.models.llamacpp:load")
BACKENDS.add("hf", "mathwright.models.hf:load")
# spec prefix -> backend (a spec with none of these is a local transformers model)
PREFIXES = {"http://": "http", "https://": "http", "vllm:": "vllm", "llamacpp:": "llamacpp"}


def backend_for(spec: str) -> str:
    """Name of the backend that serves ``spec``.

    >>> backend_for("llamacpp:m.gguf"), backend_for("vllm:gemma3-270m"), backend_for("runs/q/model")
    ('llamacpp', 'vllm', 'hf')
    """
    for prefix, name in PREFIXES.items():
        if spec.startswith(prefix):
            return name
    return "hf"


def load_model(spec: str, **kwargs: object) -> Model:
    """Load a model from a spec (see the module docstring)."""
    return BACKENDS.get(backend_for(spec))(spec, **kwargs)
