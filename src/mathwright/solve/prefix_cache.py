"""Shared-prefix KV caching for few-shot prompts on a local transformers model.

Every few-shot prompt starts with the same exemplars (~850 Gemma tokens for lm-eval's 8-shot GSM8K),
and on CPU re-encoding them for every problem dominates the cost. :class:`PrefixCachedModel` wraps an
``HFModel`` (``.model`` / ``.tokenizer``): it encodes each registered prefix once, and for a batch of
prompts with that prefix copies the cache to the batch and feeds only the suffixes, padded on their left
*after* the prefix (the attention mask hides the padding; positions come from the mask). Greedy outputs
match plain ``generate`` up to floating-point noise. Prompts without a registered prefix, and sampled
or ``n > 1`` requests, go to the wrapped model unchanged.
"""
from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any, Sequence

from mathwright.models.base import GenerationConfig, cut_at_stop


class PrefixCachedModel:
    """A ``Model`` that reuses the KV cache of registered prompt prefixes (see the module docstring)."""

    def __init__(self, inner: Any, prefixes: Sequence[str] = ()) -> None:
        self.inner, self.name = inner, inner.name
        self.tokenizer = inner.tokenizer
        self._prefixes: dict[str, tuple[Any, Any]] = {}
        for p in prefixes:
            self.add_prefix(p)

    def add_prefix(self, prefix: str) -> None:
        """Encode ``prefix`` once (BOS included) and keep its cache."""
        import torch

        if prefix in self._prefixes or not prefix:
            return
        tok, model = self.inner.tokenizer, self.inner.model
        ids = tok(prefix, return_tensors="pt")["input_ids"].to(self.inner.device)
        with torch.inference_mode():
            cache = model(input_ids=ids, use_cache=True).past_key_values
        self._prefixes[prefix] = (ids, cache)

    def _match(self, prompt: str) -> str | None:
        best = None
        for p in self._prefixes:
            if prompt.startswith(p) and len(prompt) > len(p) and (best is None or len(p) > len(best)):
                best = p
        return best

    def generate(self, prompts: Sequence[str], cfg: GenerationConfig = GenerationConfig()) -> list[list[str]]:
        prompts = list(prompts)
        out: list[list[str] | None] = [None] * len(prompts)
        if cfg.n == 1 and not cfg.temperature:
            groups: dict[str, list[int]] = {}
            for i, p in enumerate(prompts):
                m = self._match(p)
                if m is not None:
                    groups.setdefault(m, []).append(i)
            for prefix, idx in groups.items():
                suffixes = [prompts[i][len(prefix):] for i in idx]
                lens = [len(self.tokenizer(s, add_special_tokens=False)["input_ids"]) for s in suffixes]
                order = sorted(range(len(idx)), key=lambda j: -lens[j])
                bs = max(1, cfg.batch_size)
                for start in range(0, len(order), bs):
                    part = order[start:start + bs]
                    texts = self._generate_suffixes(prefix, [suffixes[j] for j in part], cfg)
                    for j, t in zip(part, texts):
                        out[idx[j]] = [t]
        rest = [i for i, o in enumerate(out) if o is None]
        if rest:
            for i, o in zip(rest, self.inner.generate([prompts[i] for i in rest], cfg)):
                out[i] = o
        return out  # type: ignore[return-value]

    def _generate_suffixes(self, prefix: str, suffixes: list[str], cfg: GenerationConfig) -> list[str]:
        import torch
        from transformers import StoppingCriteriaList

        from mathwright.models.hf import StopOnStrings

        tok, model = self.inner.tokenizer, self.inner.model
        pids, pcache = self._prefixes[prefix]
        enc = [tok(s, add_special_tokens=False)["input_ids"] for s in suffixes]
        width = max(len(e) for e in enc)
        pad = tok.pad_token_id
        b = len(suffixes)
        sfx = torch.tensor([[pad] * (width - len(e)) + e for e in enc], dtype=torch.long)
        smask = torch.tensor([[0] * (width - len(e)) + [1] * len(e) for e in enc], dtype=torch.long)
        ids = torch.cat([pids.expand(b, -1).cpu(), sfx], 1).to(self.inner.device)
        mask = torch.cat([torch.ones(b, pids.shape[1], dtype=torch.long), smask], 1).to(self.inner.device)
        cache = copy.deepcopy(pcache)
        cache.batch_repeat_interleave(b)
        kw: dict[str, Any] = dict(max_new_tokens=cfg.max_new_tokens, pad_token_id=pad, do_sample=False,
                                  temperature=None, top_p=None, top_k=None)
        if cfg.stop:
            kw["stopping_criteria"] = StoppingCriteriaList([StopOnStrings(tok, cfg.stop, ids.shape[1])])
        with torch.inference_mode():
            seqs = model.generate(input_ids=ids, attention_mask=mask, past_key_values=cache, **kw)
        texts = tok.batch_decode(seqs[:, ids.shape[1]:], skip_special_tokens=True)
        return [cut_at_stop(t, cfg.stop) for t in texts]


def fewshot_prefixes(template: Any, modes: Sequence[str] = ("cot", "pot")) -> list[str]:
    """The shared exemplar prefix of a few-shot template for each mode (text before the final ``Q: ``)."""
    out = []
    for mode in modes:
        text = template.render("\x00", mode)
        head = text.split("Q: \x00", 1)[0]
        if head != text:
            out.append(head)
    return out


__all__ = ["PrefixCachedModel", "fewshot_prefixes", "replace"]
