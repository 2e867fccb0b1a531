"""An OpenAI-compatible HTTP server as a ``Model``: vLLM, llama.cpp's server, or ``mathwright serve``.

Spec: ``http://host:port/v1[#model-name]`` (without a name, the first id from ``/v1/models`` is used).
Each prompt is one ``/v1/completions`` request with ``n`` completions; prompts are sent ``concurrency``
at a time; failed requests (connection errors, timeouts, 429 and 5xx) are retried with exponential
backoff. Completions are cut at the first stop string on this side too, since servers differ on
whether they apply ``stop`` and how many stop strings they accept. An API key, if needed, comes from
``MATHWRIGHT_API_KEY`` or ``OPENAI_API_KEY``.

>>> parse_spec("http://127.0.0.1:8000/v1#tiny")
('http://127.0.0.1:8000/v1', 'tiny')
"""
from __future__ import annotations

import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

from mathwright.models.base import GenerationConfig, cut_at_stop

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class HTTPModelError(RuntimeError):
    """The server refused a request or kept failing after every retry."""


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``(base_url, model name or None)`` from ``http://host:port/v1[#name]``."""
    base, _, name = spec.partition("#")
    if not base.startswith(("http://", "https://")):
        raise ValueError(f"not an HTTP model spec: {spec!r} (expected http://host:port/v1[#model-name])")
    return base.rstrip("/"), (name or None)


class HTTPModel:
    """Completions from an OpenAI-compatible server (see the module docstring)."""

    def __init__(self, base_url: str, model: str | None = None, *, concurrency: int = 8, retries: int = 5,
                 timeout: float = 600.0, backoff: float = 0.5, api_key: str | None = None) -> None:
        import httpx

        self.base_url, self.concurrency, self.retries, self.backoff = base_url, max(1, concurrency), retries, backoff
        key = api_key or os.environ.get("MATHWRIGHT_API_KEY") or os.environ.get("OPENAI_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.Client(base_url=base_url, headers=headers, timeout=httpx.Timeout(timeout, connect=10.0),
                                   limits=httpx.Limits(max_connections=self.concurrency))
        self.model = model or self._first_model()
        self.name = f"{base_url}#{self.model}"

    def _request(self, method: str, path: str, json: Any = None) -> Any:
        import httpx

        last = ""
        for attempt in range(self.retries + 1):
            try:
                r = self.client.request(method, path, json=json)
                if r.status_code < 400:
                    return r.json()
                last = f"HTTP {r.status_code}: {r.text[:500]}"
                if r.status_code not in RETRY_STATUS:
                    raise HTTPModelError(f"{self.base_url}{path}: {last}")
            except (httpx.TransportError, ValueError) as e:  # connection refused/reset, timeouts, bad JSON
                last = f"{type(e).__name__}: {e}"
            if attempt < self.retries:
                time.sleep(self.backoff * 2**attempt * (1 + 0.25 * random.random()))
        raise HTTPModelError(f"{self.base_url}{path}: failed after {self.retries + 1} attempts ({last})")

    def _first_model(self) -> str:
        data = self._request("GET", "/models").get("data") or []
        if not data:
            raise HTTPModelError(f"{self.base_url}/models lists no model; name one with #model-name")
        return str(data[0]["id"])

    def _complete(self, prompt: str, cfg: GenerationConfig) -> list[str]:
        body: dict[str, Any] = {"model": self.model, "prompt": prompt, "max_tokens": cfg.max_new_tokens,
                                "temperature": cfg.temperature, "top_p": cfg.top_p, "n": cfg.n, "seed": cfg.seed}
        if cfg.stop:
            body["stop"] = list(cfg.stop)
        choices = self._request("POST", "/completions", json=body).get("choices") or []
        choices = sorted(choices, key=lambda c: c.get("index", 0))
        texts = [cut_at_stop(str(c.get("text") or ""), cfg.stop) for c in choices]
        if len(texts) != cfg.n:
            raise HTTPModelError(f"{self.base_url}/completions returned {len(texts)} choices, expected {cfg.n}")
        return texts

    def generate(self, prompts: Sequence[str], cfg: GenerationConfig = GenerationConfig()) -> list[list[str]]:
        """For each prompt, ``cfg.n`` completions (prompt removed, cut before the first stop string)."""
        prompts = list(prompts)
        if len(prompts) <= 1 or self.concurrency == 1:
            return [self._complete(p, cfg) for p in prompts]
        with ThreadPoolExecutor(min(self.concurrency, len(prompts)), thread_name_prefix="http-model") as ex:
            return list(ex.map(lambda p: self._complete(p, cfg), prompts))

    def close(self) -> None:
        self.client.close()


def load(spec: str, **kwargs: Any) -> HTTPModel:
    """``load_model`` entry point for ``http://host:port/v1[#model-name]``."""
    base, name = parse_spec(spec)
    known = {"concurrency", "retries", "timeout", "backoff", "api_key"}
    return HTTPModel(base, name, **{k: v for k, v in kwargs.items() if k in known})
