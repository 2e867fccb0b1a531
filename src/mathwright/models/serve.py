"""Any mathwright ``Model`` behind an OpenAI-compatible HTTP API (FastAPI; run it with uvicorn).

Endpoints: ``GET /v1/models``, ``POST /v1/completions``, ``POST /v1/chat/completions``. Supported
request fields: ``prompt`` (a string or a list of strings) or ``messages``, ``max_tokens``, ``n``,
``temperature`` (0 = greedy), ``top_p``, ``stop`` (a string or a list), ``seed``. Other fields are
accepted and ignored, as vLLM does for the ones it does not implement. Chat prompts use the tokenizer's
chat template when it has one, else a plain ``role: content`` rendering ending in ``assistant:``.

Requests are served one at a time (a lock around ``generate``): CPU models gain nothing from
interleaving, and the same seed then gives the same text whatever else is running.

>>> from fastapi.testclient import TestClient              # doctest: +SKIP
>>> client = TestClient(build_app(model, "tiny"))          # doctest: +SKIP
>>> client.post("/v1/completions", json={"prompt": "1+1=", "max_tokens": 4}).json()["choices"][0]["text"]  # doctest: +SKIP
"""
from __future__ import annotations

import threading
import time
import uuid
from typing import Any, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

from mathwright.models.base import GenerationConfig, Model


class _Sampling(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: Optional[str] = None
    max_tokens: Optional[int] = Field(default=None, ge=1, le=32768)
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    n: int = Field(default=1, ge=1, le=128)
    stop: Union[str, list[str], None] = None
    seed: Optional[int] = None


class CompletionRequest(_Sampling):
    prompt: Union[str, list[str]]


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: Union[str, list[dict[str, Any]], None] = ""


class ChatRequest(_Sampling):
    messages: list[ChatMessage] = Field(min_length=1)


def _text(content: Union[str, list[dict[str, Any]], None]) -> str:
    """Message content as text (OpenAI allows a list of typed parts; only text parts count)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")


def render_chat(messages: list[dict[str, str]], tokenizer: Any = None) -> str:
    """The prompt for a chat: the tokenizer's chat template if it has one, else ``role: content`` lines.

    >>> render_chat([{"role": "user", "content": "What is 2+3?"}])
    'user: What is 2+3?\\nassistant:'
    """
    if tokenizer is not None and getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant:"


class _Counter:
    """Token counts for ``usage`` and ``finish_reason`` (characters when the model has no tokenizer)."""

    def __init__(self, model: Model) -> None:
        self.tok = getattr(model, "tokenizer", None)

    def __call__(self, text: str) -> int:
        if self.tok is None:
            return len(text)
        return len(self.tok(text, add_special_tokens=False)["input_ids"])


def build_app(model: Model, name: str | None = None) -> Any:
    """A FastAPI app serving ``model`` under the model id ``name`` (default: ``model.name``)."""
    from fastapi import FastAPI

    model_id = name or getattr(model, "name", "mathwright")
    lock = threading.Lock()
    count = _Counter(model)
    created = int(time.time())
    app = FastAPI(title="mathwright", description=f"OpenAI-compatible API serving {model_id}")

    def run(prompts: list[str], req: _Sampling) -> tuple[list[list[str]], int, list[list[str]]]:
        stop = (req.stop,) if isinstance(req.stop, str) else tuple(req.stop or ())
        max_tokens = req.max_tokens or 256
        cfg = GenerationConfig(max_new_tokens=max_tokens, temperature=req.temperature, top_p=req.top_p,
                               n=req.n, stop=tuple(s for s in stop if s), seed=req.seed or 0)
        with lock:
            outs = model.generate(prompts, cfg)
        reasons = [["length" if count(t) >= max_tokens else "stop" for t in texts] for texts in outs]
        return outs, max_tokens, reasons

    def usage(prompts: list[str], outs: list[list[str]]) -> dict[str, int]:
        p = sum(count(x) for x in prompts)
        c = sum(count(t) for texts in outs for t in texts)
        return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model_id, "object": "model", "created": created,
                                            "owned_by": "mathwright"}]}

    @app.post("/v1/completions")
    def completions(req: CompletionRequest) -> dict[str, Any]:
        prompts = [req.prompt] if isinstance(req.prompt, str) else list(req.prompt)
        outs, _, reasons = run(prompts, req)
        choices = [{"index": i * req.n + j, "text": t, "logprobs": None, "finish_reason": reasons[i][j]}
                   for i, texts in enumerate(outs) for j, t in enumerate(texts)]
        return {"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion", "created": int(time.time()),
                "model": model_id, "choices": choices, "usage": usage(prompts, outs)}

    @app.post("/v1/chat/completions")
    def chat(req: ChatRequest) -> dict[str, Any]:
        messages = [{"role": m.role, "content": _text(m.content)} for m in req.messages]
        prompt = render_chat(messages, getattr(model, "tokenizer", None))
        outs, _, reasons = run([prompt], req)
        choices = [{"index": j, "message": {"role": "assistant", "content": t}, "logprobs": None,
                    "finish_reason": reasons[0][j]} for j, t in enumerate(outs[0])]
        return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
                "model": model_id, "choices": choices, "usage": usage([prompt], outs)}

    return app
