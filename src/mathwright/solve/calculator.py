"""GSM8K calculator: a safe exact evaluator for ``<<expr=`` annotations and calculator-augmented decoding.

When a model writes ``<<expr=`` the runtime evaluates ``expr`` and inserts ``result>>``; the model then
writes the visible result itself (Cobbe et al. 2021, ``grade_school_math/calculator.py``).

Safety: expressions are parsed by a tiny recursive-descent parser over ``Fraction`` -- never Python
``eval``. Only digits, ``. + - * / ( )`` and spaces are accepted (commas are stripped first, as upstream).
There is no power operator: ``**`` (and so ``9**9**9``) is a syntax error, which bounds the work done.
Size caps: expression length, digits per number, parenthesis depth and the size of every intermediate
result; a violation raises :class:`CalcError`.

>>> evaluate("16-3-4")
Fraction(9, 1)
>>> calc("96/3"), calc("12/60"), calc("1,600*2"), calc("10/4")
('32', '0.2', '3200', '2.5')
>>> calc("9**9**9")
Traceback (most recent call last):
...
mathwright.solve.calculator.CalcError: unexpected '*' at position 2 in '9**9**9' (expected a number)

Two decoding paths share :func:`annotation_result`:

- :func:`calculator_generate` works with any :class:`~mathwright.models.base.Model` (HF, HTTP, vLLM):
  generate with stop ``=``, inject ``result>>`` when an annotation is open, append, continue.
- :class:`CalculatorProcessor` is an HF ``LogitsProcessor`` that forces the result tokens inside one
  batched ``model.generate`` call (KV cache kept, per-row state), used when a raw HF model is at hand.
"""
from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction
from typing import Any, Sequence

from mathwright.models.base import GenerationConfig, Model, cut_at_stop

MAX_EXPR_CHARS = 200     # longer left-hand sides are rejected outright
MAX_NUMBER_DIGITS = 30   # digits in one literal
MAX_DEPTH = 30           # nested parentheses / unary signs
MAX_RESULT_DIGITS = 60   # digits of numerator or denominator of any intermediate value
ALLOWED = set("0123456789.+-*/() ")


class CalcError(ValueError):
    """The expression is not allowed, malformed, too big, or divides by zero."""


class _Parser:
    """expr := term (('+'|'-') term)* ; term := unary (('*'|'/') unary)* ;
    unary := ('+'|'-') unary | number | '(' expr ')'"""

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.depth = 0

    def peek(self) -> str:
        while self.i < len(self.s) and self.s[self.i] == " ":
            self.i += 1
        return self.s[self.i] if self.i < len(self.s) else ""

    def fail(self, what: str) -> CalcError:
        ch = self.peek()
        where = f"unexpected {ch!r} at position {self.i}" if ch else "unexpected end"
        return CalcError(f"{where} in {self.s!r}" + (f" ({what})" if what else ""))

    def parse(self) -> Fraction:
        v = self.expr()
        if self.peek():
            raise self.fail("")
        return v

    def expr(self) -> Fraction:
        v = self.term()
        while (op := self.peek()) in ("+", "-"):
            self.i += 1
            w = self.term()
            v = _check(v + w if op == "+" else v - w)
        return v

    def term(self) -> Fraction:
        v = self.unary()
        while (op := self.peek()) in ("*", "/"):
            self.i += 1
            w = self.unary()
            if op == "*":
                v = _check(v * w)
            else:
                if w == 0:
                    raise CalcError(f"division by zero in {self.s!r}")
                v = _check(v / w)
        return v

    def unary(self) -> Fraction:
        ch = self.peek()
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise CalcError(f"nesting deeper than {MAX_DEPTH} in {self.s[:40]!r}...")
        try:
            if ch in ("+", "-"):
                self.i += 1
                v = self.unary()
                return -v if ch == "-" else v
            if ch == "(":
                self.i += 1
                v = self.expr()
                if self.peek() != ")":
                    raise self.fail("missing ')'")
                self.i += 1
                return v
            return self.number()
        finally:
            self.depth -= 1

    def number(self) -> Fraction:
        m = re.compile(r"\d+(?:\.\d*)?|\.\d+").match(self.s, self.i)
        if not m:
            raise self.fail("expected a number")
        lit = m.group()
        if sum(c.isdigit() for c in lit) > MAX_NUMBER_DIGITS:
            raise CalcError(f"number with more than {MAX_NUMBER_DIGITS} digits in {self.s[:40]!r}...")
        self.i = m.end()
        return Fraction(lit.rstrip(".") or "0")


def _check(v: Fraction) -> Fraction:
    # Bit length is a cheap bound on digit count (log10(2) ~ 0.301).
    if max(v.numerator.bit_length(), v.denominator.bit_length()) * 0.30103 > MAX_RESULT_DIGITS:
        raise CalcError(f"intermediate result larger than {MAX_RESULT_DIGITS} digits")
    return v


def evaluate(expr: str) -> Fraction:
    """Evaluate an arithmetic expression exactly (commas stripped); raise :class:`CalcError` if not allowed."""
    if len(expr) > MAX_EXPR_CHARS:
        raise CalcError(f"expression longer than {MAX_EXPR_CHARS} characters")
    text = expr.replace(",", "").strip()
    bad = set(text) - ALLOWED
    if bad:
        raise CalcError(f"characters not allowed: {''.join(sorted(bad))!r} in {text[:40]!r}")
    if not text:
        raise CalcError("empty expression")
    return _Parser(text).parse()


def format_number(v: Fraction) -> str:
    """Exact text of a value: integers without ``.0``, terminating decimals in full, else ``p/q``.

    >>> format_number(Fraction(32)), format_number(Fraction(-1, 8)), format_number(Fraction(10, 3))
    ('32', '-0.125', '10/3')
    """
    if v.denominator == 1:
        return str(v.numerator)
    d, twos, fives = v.denominator, 0, 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    if d != 1:  # repeating decimal: keep it exact rather than rounding
        return f"{v.numerator}/{v.denominator}"
    places = max(twos, fives)
    scaled = abs(v.numerator) * 10**places // v.denominator
    s = str(scaled).rjust(places + 1, "0")
    out = (s[:-places] + "." + s[-places:]).rstrip("0").rstrip(".")
    return ("-" if v < 0 else "") + out


def calc(expr: str) -> str:
    """Evaluate and format: the text the calculator inserts before ``>>``."""
    return format_number(evaluate(expr))


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
