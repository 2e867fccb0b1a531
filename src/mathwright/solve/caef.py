"""The CAEF execution loop, batched across problems, in full or local-view mode.

- **full**: the model reads the previous step (2 lines, or 4 for a composer getting a callee's result)
  and writes the whole next step; a ``CMD [CALL] X`` response starts executor X from lines 3-4 and its
  halt state is handed back to the composer (the only text the runner moves, as in the reference).
- **local**: the runtime holds the tapes; the model sees the local view and emits the command, which the
  runtime applies (see :mod:`mathwright.formats.local`).

``model`` is one :class:`Model` for every machine (the machine name leads every prompt) or a mapping
machine -> Model (e.g. per-machine LoRA adapters); :class:`OracleModel` stands in for a model.

>>> [r.answer for r in solve_problems([Problem("add", 45, 67), Problem("div", 47, 15)], OracleModel())]
['112', '3 R 2']
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from mathwright.arith.problem import Problem
from mathwright.formats import caef as F
from mathwright.formats import local as L
from mathwright.machines.composers import (COMPOSERS, Comp, call_args, comp_apply, comp_call, comp_result,
                                           comp_start, comp_trans)
from mathwright.machines.executors import HALT, Tape, apply, delta, result, start
from mathwright.models.base import GenerationConfig, Model, cut_at_stop
from mathwright.machines.aligner import Plan, align, expected

MODES = ("full", "local")


class OracleModel:
    """Answers CAEF and local-view prompts exactly (the oracle standing in for a model)."""

    name = "oracle"

    def generate(self, prompts: Sequence[str], cfg: GenerationConfig) -> list[list[str]]:
        out = []
        for p in prompts:
            try:
                r = L.oracle_local(p) if p.endswith("=") else F.oracle_response(p)
            except (ValueError, KeyError, IndexError) as e:
                r = f"ERROR {e}\n"
            out.append([cut_at_stop(r, cfg.stop)] * cfg.n)
        return out


class CachedModel:
    """Memoises a model's greedy responses by prompt. Greedy decoding is a pure function of the prompt,
    so answers are unchanged; local-view prompts repeat constantly, so most steps skip the model."""

    def __init__(self, model: Model) -> None:
        self.model, self.name = model, f"cached({getattr(model, 'name', 'model')})"
        self.cache: dict[str, str] = {}
        self.model_calls = 0

    def generate(self, prompts: Sequence[str], cfg: GenerationConfig) -> list[list[str]]:
        new = list(dict.fromkeys(p for p in prompts if p not in self.cache))
        if new:
            self.model_calls += len(new)
            for p, out in zip(new, self.model.generate(new, cfg)):
                self.cache[p] = out[0]
        return [[self.cache[p]] for p in prompts]


@dataclass
class Run:
    """One problem's progress through the loop."""

    plan: Plan
    mode: str
    prompt: str = ""
    stack: list = field(default_factory=list)
    steps: int = 0
    chars: int = 0
    ok: dict = field(default_factory=lambda: {"executor": [0, 0], "composer": [0, 0]})
    first_error: str | None = None
    answer: str | None = None
    error: str | None = None
    done: bool = False
    seconds: float = 0.0
    trace: list[str] = field(default_factory=list)

    @property
    def correct(self) -> bool:
        return self.answer == expected(self.plan)


def _kind(machine: str) -> str:
    return "composer" if machine in COMPOSERS else "executor"


def _start(plan: Plan, mode: str) -> Run:
    r = Run(plan, mode)
    if plan.machine is None:
        r.answer, r.done = plan.answer, True
    elif mode == "full":
        r.prompt = "\n".join(F.q0_lines(plan.machine, plan.a, plan.b)) + "\n"
    else:
        top = start(plan.machine, plan.a, plan.b) if plan.machine not in COMPOSERS else \
            comp_start(plan.machine, plan.a, plan.b)
        r.stack = [[top, "call", None]]
    return r


# ---------------------------------------------------------------------------------------- full mode
def _full_next(r: Run, resp: str, check: bool) -> None:
    machine = r.prompt.split(",", 1)[0]
    lines = resp.rstrip("\n").split("\n")
    n = 4 if len(lines) > 1 and lines[1].startswith("CMD [CALL]") else 2
    lines = lines[:n]
    resp = "\n".join(lines) + "\n"
    if check:
        try:
            good = F.check(r.prompt, resp) == []
        except (ValueError, KeyError, IndexError):
            good = False
        r.ok[_kind(machine)][0] += good
        r.ok[_kind(machine)][1] += 1
        if not good and r.first_error is None:
            r.first_error = f"step {r.steps}: {r.prompt!r} -> {resp!r}"
    r.trace.append(resp)
    if len(lines) < n:
        raise ValueError(f"truncated response {resp!r}")
    if lines[1] == F.HALT_LINE:
        if r.stack:
            r.prompt = r.stack.pop() + lines[0] + "\n" + F.HALT_LINE + "\n"
        else:
            _finish(r, lines[0])
    elif n == 4:
        r.stack.append(lines[0] + "\n" + lines[1] + "\n")
        r.prompt = lines[2] + "\n" + lines[3] + "\n"
    else:
        r.prompt = resp


def _finish(r: Run, halt_line: str) -> None:
    res = F.halt_result(halt_line)
    rem = None
    if halt_line.startswith("LDIV,"):
        rem = F.parse_comp_state(halt_line).get("r")
    r.answer, r.done = r.plan.finish(res, rem), True


# --------------------------------------------------------------------------------------- local mode
def _local_prompt(r: Run) -> tuple[str, str, str]:
    """(prompt, machine, oracle response) for the top frame."""
    x, phase, R = r.stack[-1]
    if isinstance(x, Tape):
        return L.exec_prompt(x), x.m, L.exec_response(delta(x))
    if phase == "call":
        return L.call_prompt(x), x.m, L.call_response(comp_call(x))
    return L.trans_prompt(x, R), x.m, L.trans_response(*comp_trans(x, R))


def _local_next(r: Run, resp: str, want: str, machine: str, check: bool) -> None:
    resp = resp.split("\n", 1)[0].strip() + "\n"
    if check:
        good = resp == want
        r.ok[_kind(machine)][0] += good
        r.ok[_kind(machine)][1] += 1
        if not good and r.first_error is None:
            r.first_error = f"step {r.steps}: {_local_prompt(r)[0]!r} -> {resp!r} (want {want!r})"
    r.trace.append(_local_prompt(r)[0] + " " + resp)
    frame = r.stack[-1]
    x, phase, R = frame
    done_val: tuple[str, str | None] | None = None
    if isinstance(x, Tape):
        t = apply(x, L.parse_exec_response(resp))
        frame[0] = t
        if t.q == HALT:
            done_val = (result(t), None)
    elif phase == "call":
        call = L.parse_call_response(resp)
        frame[1], frame[2] = "trans", None
        if call is not None:
            if call.machine not in COMPOSERS and call.machine not in ("ADD", "EQUAL", "GREATER_THAN", "LESS_THAN",
                                                                       "REFLECTION", "LEFT_MASK", "MULD", "SUBX"):
                raise ValueError(f"unknown machine {call.machine!r}")
            args = call_args(x, call)
            sub = comp_start(call.machine, *args) if call.machine in COMPOSERS else start(call.machine, *args)
            r.stack.append([sub, "call", None])
    else:
        sets, nxt = L.parse_trans_response(resp)
        c = comp_apply(x, sets, nxt, R)
        frame[0], frame[1], frame[2] = c, "call", None
        if c.q == HALT:
            done_val = (comp_result(c), c.get("r") if c.m == "LDIV" else None)
    if done_val is not None:
        r.stack.pop()
        if r.stack:
            r.stack[-1][2] = done_val[0]
        else:
            r.answer, r.done = r.plan.finish(*done_val), True


# ------------------------------------------------------------------------------------------- the loop
def solve_problems(problems: Sequence[Problem], model: Model | Mapping[str, Model], *, mode: str = "local",
                   machines: str = "long", check: bool = False, batch_size: int = 64,
                   max_steps: int = 200_000, keep_trace: bool = False, stop_on_error: bool = False) -> list[Run]:
    """Run every problem to its answer; steps of all unfinished problems are batched per model.

    With ``check``, every step is compared with the oracle's; ``stop_on_error`` then ends a run at its first
    mismatch, as CAEF's lock-step checker does."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; valid: {', '.join(MODES)}")
    runs = [_start(align(p, machines), mode) for p in problems]
    t0 = time.perf_counter()
    while True:
        live = [r for r in runs if not r.done and r.error is None]
        if not live:
            break
        groups: dict[int, tuple[Model, list]] = {}
        for r in live:
            if mode == "full":
                prompt, machine, want = r.prompt, r.prompt.split(",", 1)[0], ""
            else:
                prompt, machine, want = _local_prompt(r)
            m = (model.get(machine) or model.get("*")) if isinstance(model, Mapping) else model
            if m is None:
                r.error = f"no model for machine {machine}"
                continue
            groups.setdefault(id(m), (m, []))[1].append((r, prompt, machine, want))
        for m, items in groups.values():
            prompts = [p for _, p, _, _ in items]
            if mode == "full":
                cfg = GenerationConfig(max_new_tokens=max(len(p) for p in prompts) + 300, batch_size=batch_size)
            else:
                cfg = GenerationConfig(max_new_tokens=40, stop=("\n",), batch_size=batch_size)
            outs = m.generate(prompts, cfg)
            for (r, p, machine, want), out in zip(items, outs):
                resp = out[0]
                r.steps += 1
                r.chars += len(resp)
                try:
                    if mode == "full":
                        _full_next(r, resp, check)
                    else:
                        _local_next(r, resp, want, machine, check)
                except (ValueError, KeyError, IndexError) as e:
                    r.error = f"step {r.steps}: {e}"
                if stop_on_error and r.first_error and r.error is None:
                    r.error, r.answer, r.done = f"first mismatch: {r.first_error}", None, False
                if r.steps >= max_steps and not r.done:
                    r.error = f"no halt after {max_steps} steps"
    dt = time.perf_counter() - t0
    for r in runs:
        r.seconds = dt / max(len(runs), 1)
        if not keep_trace:
            r.trace = []
    return runs


class AdapterSwitch:
    """One base model with a LoRA adapter per machine (CAEF's setup): ``models()`` maps each machine name
    to a Model that activates that machine's adapter; ``"*"`` is the base with adapters disabled."""

    def __init__(self, base: str, adapters: Mapping[str, str]) -> None:
        from peft import PeftModel

        from mathwright.models.hf import HFModel, load

        if not adapters:
            raise ValueError("no adapters given")
        hf = load(base, dtype="float32")
        names = list(adapters)
        pm = PeftModel.from_pretrained(hf.model, adapters[names[0]], adapter_name=names[0])
        for name in names[1:]:
            pm.load_adapter(adapters[name], adapter_name=name)
        pm.eval()
        self.peft, self.hf, self.names = pm, HFModel(pm, hf.tokenizer, name=f"{base}+lora"), names

    def models(self) -> dict[str, Model]:
        table: dict[str, Model] = {name: _Adapter(self, name) for name in self.names}
        table["*"] = _Adapter(self, None)
        return table


class _Adapter:
    def __init__(self, switch: AdapterSwitch, adapter: str | None) -> None:
        self.switch, self.adapter, self.name = switch, adapter, f"lora:{adapter or 'base'}"

    def generate(self, prompts: Sequence[str], cfg: GenerationConfig) -> list[list[str]]:
        pm = self.switch.peft
        if self.adapter is None:
            with pm.disable_adapter():
                return self.switch.hf.generate(prompts, cfg)
        pm.set_adapter(self.adapter)
        return self.switch.hf.generate(prompts, cfg)
