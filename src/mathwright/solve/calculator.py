"""GSM8K calculator-augmented decoding.

When a model writes ``<<expr=`` the runtime evaluates ``expr`` and inserts ``result>>``; the model then
writes the visible result itself (Cobbe et al. 2021, ``grade_school_math/calculator.py``). The evaluator
(:func:`evaluate`, :func:`calc`: exact and safe, never Python ``eval``) is :mod:`mathwright.arith.exact`,
re-exported here.

>>> calc("96/3"), calc("12/60")
('32', '0.2')

Two decoding paths share :func:`annotation_result`:

- :func:`calculator_generate` works with any :class:`~mathwright.models.base.Model` (HF, HTTP, vLLM):
  generate with stop ``=``, inject ``result>>`` when an annotation is open, append, continue.
- :class:`CalculatorProcessor` is an HF ``LogitsProcessor`` that forces the result tokens inside one
  batched ``model.generate`` call (KV cache kept, per-row state), used when a raw HF model is at hand.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

from mathwright.arith.exact import (ALLOWED, MAX_DEPTH, MAX_EXPR_CHARS, MAX_NUMBER_DIGITS,  # noqa: F401
                                   MAX_RESULT_DIGITS, CalcError, calc, evaluate, format_number)
from mathwright.models.base import GenerationConfig, Model, cut_at_stop


def annotation_result(text: str) -> str | None:
    """If ``text`` ends inside an open annotation ``<<expr=``, return ``result + '>>'`` to insert, else None.

    >>> annotation_result("She makes 9 * 2 = $<<9*2=")
    '18>>'
    >>> annotation_result("done <<1+1=2>> and 3 =") is None
    True
    """
    if not text.endswith("="):
        return None
    k = text.rfind("<<")
    if k == -1:
        return None
    tail = text[k + 2 : -1]
    if ">>" in tail or "=" in tail:
        return None
    try:
        return calc(tail) + ">>"
    except CalcError:
        return None  # as upstream: a bad expression is left to the model


def _open_annotation(text: str) -> bool:
    k = text.rfind("<<")
    return k != -1 and ">>" not in text[k:] and "=" not in text[k:]


def calculator_generate(model: Model, prompts: Sequence[str], cfg: GenerationConfig,
                        max_rounds: int = 64) -> list[list[str]]:
    """``model.generate`` with the calculator, for any backend (stop on ``=``, inject, append, continue).

    If the backend exposes an HF model and tokenizer (``.model`` and ``.tokenizer``), one batched
    ``generate`` call with :class:`CalculatorProcessor` is used instead (same semantics, KV cache kept).

    Generic path: a completion cut at ``=`` while an annotation is open gets ``result>>`` appended. A
    completion cut with no open annotation either hit a visible ``=`` or really ended (EOS, a user stop,
    the token budget); a one-token greedy probe tells them apart (it returns ``=`` only in the first case).
    """
    if _hf_parts(model) is not None:
        hf_model, tok = _hf_parts(model)
        return hf_calculator_generate(hf_model, tok, prompts, cfg)
    user_stop = tuple(cfg.stop)
    first = model.generate(prompts, replace(cfg, stop=user_stop + ("=",)))
    # state per (prompt, sample): generated text so far, and whether it is finished
    texts: list[list[str]] = [list(c) for c in first]
    active = [(p, j) for p in range(len(prompts)) for j in range(len(texts[p]))]
    budget_chars = cfg.max_new_tokens * 8  # generous bound when the backend does not count tokens
    for rnd in range(max_rounds):
        if not active:
            break
        cont_prompts, cont_keys = [], []
        probe_prompts, probe_keys = [], []
        for p, j in active:
            t = texts[p][j]
            if len(t) >= budget_chars:
                continue
            # the annotation may have been opened by the prompt (`... <<`), as the HF processor allows
            if _open_annotation(prompts[p] + t):
                inj = annotation_result(prompts[p] + t + "=")
                texts[p][j] = t + "=" + (inj or "")
                cont_prompts.append(prompts[p] + texts[p][j])
                cont_keys.append((p, j))
            else:
                probe_prompts.append(prompts[p] + t)
                probe_keys.append((p, j))
        if probe_prompts:
            probes = model.generate(probe_prompts, replace(cfg, n=1, temperature=0.0, max_new_tokens=1, stop=()))
            for (p, j), pr in zip(probe_keys, probes):
                if pr and pr[0].startswith("="):
                    texts[p][j] += "="
                    cont_prompts.append(prompts[p] + texts[p][j])
                    cont_keys.append((p, j))
        if not cont_prompts:
            break
        # each sample has its own history now: continue with n=1 and a per-round seed
        outs = model.generate(cont_prompts, replace(cfg, n=1, stop=user_stop + ("=",), seed=cfg.seed + 1000 * (rnd + 1)))
        active = []
        for (p, j), o in zip(cont_keys, outs):
            texts[p][j] += o[0]
            if o[0] or _open_annotation(prompts[p] + texts[p][j]):
                active.append((p, j))
    return [[cut_at_stop(t, user_stop) for t in row] for row in texts]


def _hf_parts(model: Any) -> tuple[Any, Any] | None:
    m, tok = getattr(model, "model", None), getattr(model, "tokenizer", None)
    if m is not None and tok is not None and hasattr(m, "generate") and hasattr(tok, "decode"):
        return m, tok
    return None


class CalculatorProcessor:
    """HF logits processor: when a row's text ends with an open ``<<expr=``, force ``result>>`` token by token.

    Per-row queues keep the state of each sequence in the batch (rows of ``num_return_sequences`` too).
    Rows are only decoded when their last token contains ``=``, so the overhead is small.
    """

    def __init__(self, tokenizer: Any, prompt_len: int, lookback: int = 96) -> None:
        self.tok = tokenizer
        self.prompt_len = prompt_len
        self.lookback = lookback
        vocab = tokenizer.get_vocab()
        # token strings keep ASCII "=" as is (byte-level BPE, sentencepiece, char vocabularies alike)
        self.eq_ids = {i for t, i in vocab.items() if "=" in t}
        self.queues: dict[int, list[int]] = {}
        self.calls = 0  # number of results injected (for tests and logs)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        last = input_ids[:, -1].tolist()
        for row in range(input_ids.shape[0]):
            q = self.queues.get(row)
            # (a prompt that itself ends inside an open annotation is completed too: continuation prompts)
            if not q and last[row] in self.eq_ids:
                start = max(0, input_ids.shape[1] - self.lookback)
                text = self.tok.decode(input_ids[row, start:].tolist(), skip_special_tokens=True)
                inj = annotation_result(text)
                if inj is not None:
                    q = self.tok.encode(inj, add_special_tokens=False)
                    self.queues[row] = q
                    self.calls += 1
            if q:
                forced = q.pop(0)
                scores[row, :] = -float("inf")
                scores[row, forced] = 0.0
        return scores


def hf_calculator_generate(hf_model: Any, tokenizer: Any, prompts: Sequence[str], cfg: GenerationConfig,
                           stop_strings_cut: bool = True) -> list[list[str]]:
    """Batched calculator decoding with a raw HF model: ``cfg.n`` samples per prompt via
    ``num_return_sequences`` (the prompt is encoded once per batch), results forced by
    :class:`CalculatorProcessor`. Prompts are left-padded; output is cut at ``cfg.stop``."""
    import torch
    from transformers import LogitsProcessorList, StoppingCriteriaList

    out: list[list[str]] = []
    bs = max(1, cfg.batch_size)
    old_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    try:
        for b in range(0, len(prompts), bs):
            chunk = list(prompts[b : b + bs])
            enc = tokenizer(chunk, return_tensors="pt", padding=True)  # specials as in training (BOS)
            proc = CalculatorProcessor(tokenizer, enc["input_ids"].shape[1])
            torch.manual_seed(cfg.seed + b)
            kwargs: dict[str, Any] = dict(max_new_tokens=cfg.max_new_tokens, num_return_sequences=cfg.n,
                                          logits_processor=LogitsProcessorList([proc]),
                                          pad_token_id=tokenizer.pad_token_id)
            if cfg.temperature > 0:
                kwargs.update(do_sample=True, temperature=cfg.temperature, top_p=cfg.top_p, top_k=0)
            else:
                kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
            if cfg.stop:
                from mathwright.models.hf import StopOnStrings

                kwargs["stopping_criteria"] = StoppingCriteriaList([StopOnStrings(tokenizer, cfg.stop, enc["input_ids"].shape[1])])
            ids, mask = enc["input_ids"], enc["attention_mask"]
            with torch.inference_mode():
                if cfg.n > 1 and ids.shape[1] > 1:
                    # prefill each prompt once and fan its KV cache out to the n samples
                    pre = mask[:, :-1]
                    pos = (pre.long().cumsum(-1) - 1).clamp(min=0)  # left padding shifts positions, as in generate()
                    cache = hf_model(input_ids=ids[:, :-1], attention_mask=pre, position_ids=pos,
                                     use_cache=True).past_key_values
                    cache.batch_repeat_interleave(cfg.n)
                    ids, mask = ids.repeat_interleave(cfg.n, 0), mask.repeat_interleave(cfg.n, 0)
                    kwargs.pop("num_return_sequences")
                    gen = hf_model.generate(input_ids=ids, attention_mask=mask, past_key_values=cache, **kwargs)
                else:
                    gen = hf_model.generate(input_ids=ids, attention_mask=mask, **kwargs)
            texts = tokenizer.batch_decode(gen[:, ids.shape[1]:], skip_special_tokens=True)
            for i in range(len(chunk)):
                row = texts[i * cfg.n : (i + 1) * cfg.n]
                out.append([cut_at_stop(t, cfg.stop) if stop_strings_cut else t for t in row])
    finally:
        tokenizer.padding_side = old_side
    return out
