"""Any mathwright ``Model`` behind an OpenAI-compatible HTTP API (FastAPI; run it with uvicorn).

Endpoints: ``GET /v1/models``, ``POST /v1/completions``, ``POST /v1/chat/completions``, ``GET /health``.
Request fields: ``prompt`` (a string or a list of strings) or ``messages``, ``max_tokens`` (or
``max_completion_tokens``), ``n``,
``temperature`` (0 = greedy), ``top_p``, ``stop`` (a string or a list), ``seed``, ``stream`` (server-sent
events: ``data: {chunk}`` lines, then ``data: [DONE]``), ``stream_options.include_usage`` and vLLM's
``ignore_eos``. Other fields are accepted and ignored, as vLLM does for the ones it does not implement.
Chat prompts use the tokenizer's chat template when it has one, else a plain ``role: content`` rendering
ending in ``assistant:``.

Limits (:class:`ServeLimits`, the ``serve`` command's flags; see docs/serve.md): the prompt plus
``max_tokens`` must fit the model's context, ``max_tokens`` and prompts x ``n`` are capped, the body is at
most ``max_body_bytes``; a request over a limit, with a malformed body or with a field of the wrong type
gets HTTP 400 (413 for the body size) and an OpenAI-style ``{"error": {...}}`` body. When ``max_queue``
requests are already waiting or running, a new one gets 503 with ``Retry-After``. A client that
disconnects cancels its generation. Without ``seed`` a request samples with a fresh random seed.

Generation runs in :mod:`mathwright.models.serve_engine`: transformers models are decoded a token at a time,
round-robin over the running requests, so a short request is answered while a long one runs.

>>> from fastapi.testclient import TestClient              # doctest: +SKIP
>>> client = TestClient(build_app(model, "tiny"))          # doctest: +SKIP
>>> client.post("/v1/completions", json={"prompt": "1+1=", "max_tokens": 4}).json()["choices"][0]["text"]  # doctest: +SKIP
"""
from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any, AsyncIterator, Optional, Union

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mathwright.models.base import Model
from mathwright.models.serve_engine import engine_for
from mathwright.models.serve_jobs import Busy, Delta, Failed, Finish, Job, Work
from mathwright.models.serve_step import StepEngine

SEED_MAX = 2**63 - 1


@dataclass(frozen=True)
class ServeLimits:
    """What one request may ask for, and how many may wait (the ``serve`` command's flags)."""

    max_tokens: Optional[int] = None  # cap on max_tokens (None: the model's context)
    default_max_tokens: int = 256  # when a request gives none (still capped by the room left in the context)
    context: Optional[int] = None  # context length when the backend does not know its own (or to lower it)
    max_queue: int = 128  # requests waiting or running; more get 503
    max_body_bytes: int = 4 << 20
    max_choices: int = 256  # prompts x n per request
    max_batch_tokens: Optional[int] = None  # KV-cache tokens running requests may fill together (None: 4 contexts)
    disconnect_poll: float = 0.25  # seconds between checks that a non-streaming client is still there


class _Sampling(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    model: Optional[str] = None
    max_tokens: Optional[int] = Field(default=None, ge=1)
    max_completion_tokens: Optional[int] = Field(default=None, ge=1)  # the newer OpenAI name (chat)
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    n: int = Field(default=1, ge=1, le=128)
    stop: Union[str, list[str], None] = Field(default=None)
    seed: Optional[int] = Field(default=None, ge=0, le=SEED_MAX)
    stream: bool = False
    stream_options: Optional[dict[str, Any]] = None
    ignore_eos: bool = False


class CompletionRequest(_Sampling):
    prompt: Union[str, list[str]]


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

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


class APIError(Exception):
    """An error answered as ``{"error": {"message", "type", "param", "code"}}`` with an HTTP status."""

    def __init__(self, status: int, message: str, code: Optional[str] = None, param: Optional[str] = None,
                 headers: Optional[dict[str, str]] = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param, self.headers = status, message, code, param, headers

    def body(self) -> dict[str, Any]:
        kind = "invalid_request_error" if self.status < 500 else "server_error"
        return {"error": {"message": self.message, "type": kind, "param": self.param, "code": self.code}}


async def read_json(request: Any, max_bytes: int) -> dict[str, Any]:
    """The request body as a JSON object, read at most ``max_bytes`` far (413 past that, 400 if malformed)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise APIError(413, f"request body is {declared} bytes; the limit is {max_bytes}", "body_too_large")
    data = bytearray()
    async for part in request.stream():
        data += part
        if len(data) > max_bytes:
            raise APIError(413, f"request body exceeds {max_bytes} bytes", "body_too_large")
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as e:
        raise APIError(400, f"request body is not valid UTF-8 (byte {e.start})", "invalid_body") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise APIError(400, f"request body is not valid JSON: {e}", "invalid_json") from None
    if not isinstance(obj, dict):
        raise APIError(400, f"request body must be a JSON object, got {type(obj).__name__}", "invalid_body")
    return obj


def parse(cls: type[BaseModel], obj: dict[str, Any]) -> Any:
    """Validate a request (400 naming the first bad field)."""
    try:
        req = cls.model_validate(obj)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"]) or "body"
        raise APIError(400, f"{loc}: {err['msg']}", "invalid_value", param=loc) from None
    if req.max_tokens is None:
        req.max_tokens = req.max_completion_tokens
    return req


def build_app(model: Model, name: str | None = None, limits: ServeLimits = ServeLimits()) -> Any:
    """A FastAPI app serving ``model`` under the model id ``name`` (default: ``model.name``).

    The engine is ``app.state.engine`` (its ``stats`` and ``pending`` count are read by the tests).
    """
    model_id = name or getattr(model, "name", "mathwright")
    engine = engine_for(model, max_queue=limits.max_queue, context=limits.context,
                        budget=limits.max_batch_tokens)
    created = int(time.time())
    app = FastAPI(title="mathwright", description=f"OpenAI-compatible API serving {model_id}")
    app.state.engine, app.state.limits = engine, limits

    @app.exception_handler(APIError)
    async def api_error(_: Request, e: APIError) -> JSONResponse:
        return JSONResponse(e.body(), status_code=e.status, headers=e.headers)

    @app.exception_handler(Exception)
    async def internal(_: Request, e: Exception) -> JSONResponse:
        return JSONResponse(APIError(500, f"{type(e).__name__}: {e}", "internal_error").body(), status_code=500)

    def work(prompts: list[str], req: _Sampling) -> tuple[Work, list[int]]:
        """Check the request against the limits and the model's context; the engine's job and prompt sizes."""
        if len(prompts) * req.n > limits.max_choices:
            raise APIError(400, f"{len(prompts)} prompts x n={req.n} is over the limit of {limits.max_choices} "
                           "completions per request", "too_many_choices", "n")
        if not prompts:
            raise APIError(400, "prompt: give at least one prompt", "invalid_value", "prompt")
        sizes = [engine.count_tokens(p) for p in prompts]
        ctx, longest = engine.context, max(sizes)
        cap = limits.max_tokens or ctx
        if req.max_tokens is not None and cap is not None and req.max_tokens > cap:
            raise APIError(400, f"max_tokens={req.max_tokens} is over this server's limit of {cap}",
                           "max_tokens_exceeded", "max_tokens")
        if ctx is not None:
            room = ctx - longest
            want = req.max_tokens or 1
            if want > room:
                raise APIError(400, f"This model's maximum context length is {ctx} tokens. However, you requested "
                               f"{longest + want} tokens ({longest} in the prompt, {want} for the completion). "
                               "Please reduce the prompt or max_tokens.", "context_length_exceeded", "max_tokens")
        max_tokens = req.max_tokens or min(x for x in (limits.default_max_tokens, cap, ctx and ctx - longest) if x)
        if isinstance(engine, StepEngine) and min(sizes) == 0:
            raise APIError(400, "prompt: the tokenizer gives no tokens for an empty prompt", "invalid_value", "prompt")
        need = (sum(sizes) + len(sizes) * max_tokens) * req.n
        if engine.budget is not None and need > engine.budget:
            raise APIError(400, f"this request may fill {need} tokens of cache ((prompt + max_tokens) x n); the "
                           f"server's limit is {engine.budget} (--max-batch-tokens)", "too_many_tokens", "max_tokens")
        stop = (req.stop,) if isinstance(req.stop, str) else tuple(req.stop or ())
        seed = req.seed if req.seed is not None else secrets.randbelow(SEED_MAX)
        return Work(prompts=tuple(prompts), max_tokens=max_tokens, temperature=req.temperature, top_p=req.top_p,
                    n=req.n, stop=tuple(s for s in stop if s), seed=seed, ignore_eos=req.ignore_eos), sizes

    def submit(w: Work) -> Job:
        try:
            return engine.submit(w, asyncio.get_running_loop())
        except Busy as e:
            raise APIError(503, f"server busy: {e}", "queue_full", headers={"Retry-After": "1"}) from None

    async def events(job: Job, request: Request) -> AsyncIterator[Any]:
        """The job's events; cancels the job when the client goes away or the consumer stops early."""
        left = job.work.n * len(job.work.prompts)  # Finish events still to come
        checked = time.monotonic()
        try:
            while left > 0:
                if time.monotonic() - checked >= limits.disconnect_poll:  # by the clock: deltas may never pause
                    if await request.is_disconnected():
                        return
                    checked = time.monotonic()
                try:
                    ev = await asyncio.wait_for(job.events.get(), limits.disconnect_poll)
                except asyncio.TimeoutError:
                    continue
                if isinstance(ev, Failed):
                    raise APIError(500, f"generation failed: {ev.message}", "generation_failed")
                left -= isinstance(ev, Finish)
                yield ev
        finally:
            if not job.finished.is_set():
                job.cancel()

    async def collect(job: Job, request: Request) -> tuple[list[str], list[str], int]:
        k = job.work.n * len(job.work.prompts)
        texts, reasons, tokens = [""] * k, ["stop"] * k, 0
        async for ev in events(job, request):
            if isinstance(ev, Delta):
                texts[ev.index] += ev.text
            elif isinstance(ev, Finish):
                reasons[ev.index], tokens = ev.reason, tokens + ev.tokens
        return texts, reasons, tokens

    def usage(sizes: list[int], tokens: int) -> dict[str, int]:
        p = sum(sizes)
        return {"prompt_tokens": p, "completion_tokens": tokens, "total_tokens": p + tokens}

    def sse(job: Job, request: Request, chunk: Any, sizes: list[int], include_usage: bool,
            head: Optional[Any] = None) -> StreamingResponse:
        """Server-sent events: ``data: {json}`` per chunk, ``data: [DONE]`` last."""

        async def body() -> AsyncIterator[str]:
            tokens = 0
            if head is not None:
                for i in range(job.work.n * len(job.work.prompts)):
                    yield f"data: {json.dumps(head(i))}\n\n"
            try:
                async for ev in events(job, request):
                    if isinstance(ev, Delta):
                        yield f"data: {json.dumps(chunk(ev.index, ev.text, None))}\n\n"
                    elif isinstance(ev, Finish):
                        tokens += ev.tokens
                        yield f"data: {json.dumps(chunk(ev.index, None, ev.reason))}\n\n"
            except APIError as e:  # the status line is gone already: report in the stream
                yield f"data: {json.dumps(e.body())}\n\n"
            finally:  # closed early (client gone): stop generating
                if not job.finished.is_set():
                    job.cancel()
            if include_usage:
                last = chunk(0, None, None)
                last.update(choices=[], usage=usage(sizes, tokens))
                yield f"data: {json.dumps(last)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(body(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    def include_usage(req: _Sampling) -> bool:
        return bool((req.stream_options or {}).get("include_usage"))

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model_id, "object": "model", "created": created,
                                            "owned_by": "mathwright", "max_model_len": engine.context}]}

    @app.post("/v1/completions")
    async def completions(request: Request) -> Any:
        req = parse(CompletionRequest, await read_json(request, limits.max_body_bytes))
        prompts = [req.prompt] if isinstance(req.prompt, str) else list(req.prompt)
        w, sizes = work(prompts, req)
        job = submit(w)
        rid, now = f"cmpl-{uuid.uuid4().hex}", int(time.time())
        if req.stream:
            def chunk(i: int, text: Optional[str], reason: Optional[str]) -> dict[str, Any]:
                return {"id": rid, "object": "text_completion", "created": now, "model": model_id,
                        "choices": [{"index": i, "text": text or "", "logprobs": None, "finish_reason": reason}]}
            return sse(job, request, chunk, sizes, include_usage(req))
        texts, reasons, tokens = await collect(job, request)
        choices = [{"index": i, "text": t, "logprobs": None, "finish_reason": r}
                   for i, (t, r) in enumerate(zip(texts, reasons))]
        return {"id": rid, "object": "text_completion", "created": now, "model": model_id, "choices": choices,
                "usage": usage(sizes, tokens)}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        req = parse(ChatRequest, await read_json(request, limits.max_body_bytes))
        messages = [{"role": m.role, "content": _text(m.content)} for m in req.messages]
        prompt = render_chat(messages, getattr(model, "tokenizer", None))
        w, sizes = work([prompt], req)
        job = submit(w)
        rid, now = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if req.stream:
            def chunk(i: int, text: Optional[str], reason: Optional[str]) -> dict[str, Any]:
                delta = {"content": text} if text is not None else {}
                return {"id": rid, "object": "chat.completion.chunk", "created": now, "model": model_id,
                        "choices": [{"index": i, "delta": delta, "logprobs": None, "finish_reason": reason}]}

            def head(i: int) -> dict[str, Any]:  # OpenAI opens each choice with the role
                c = chunk(i, "", None)
                c["choices"][0]["delta"] = {"role": "assistant", "content": ""}
                return c
            return sse(job, request, chunk, sizes, include_usage(req), head)
        texts, reasons, tokens = await collect(job, request)
        choices = [{"index": i, "message": {"role": "assistant", "content": t}, "logprobs": None, "finish_reason": r}
                   for i, (t, r) in enumerate(zip(texts, reasons))]
        return {"id": rid, "object": "chat.completion", "created": now, "model": model_id, "choices": choices,
                "usage": usage(sizes, tokens)}

    return app
