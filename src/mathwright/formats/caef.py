"""The CAEF text format (byte for byte as the reference, see docs caef.md), rendered from the machines.

- The line grammar (state and command lines, parsed back) is :mod:`mathwright.formats.caef_lines`; ADD's
  closed-form steps are :mod:`mathwright.formats.caef_add`. Both are re-exported here.
- :func:`trace` is a machine's full trace, callees inlined; :func:`step_pairs` the training pairs
  (2-line executor steps, 4-line composer steps); :func:`oracle_response` the oracle's next step for any
  prompt; :func:`check` verifies every line of a pair against the oracle.
- :func:`aligner_input` / :func:`aligner_output` translate between ``45+67=`` and the machines' lines;
  :func:`render`, :func:`parse`, :func:`check_record` and :data:`FORMAT` are the ``FORMATS['caef']`` entry.
- ``compat=True`` reproduces the reference generator's composer prompts, including its stale callee halt
  lines (caef.md section 10); ``compat=False`` ("fixed") uses the real callee halt lines.

>>> print(trace("ADD", "54", "76")[-2])
ADD, qH,  |5|4[HEAD1] |7|6[HEAD2] [C]1 |2|1|1
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable

from mathwright.arith.problem import OPERATORS
from mathwright.formats import local as L
from mathwright.formats.caef_add import add_pair_ok, add_pairs
from mathwright.formats.caef_lines import (HALT_LINE, cmd_line, comp_cmd_line, comp_state_line, halt_result,
                                           parse_comp_state, parse_state, state_line)
from mathwright.machines.aligner import align
from mathwright.machines.composers import Comp, call_args, comp_apply, comp_call, comp_start, comp_trans
from mathwright.machines.executors import EXECUTORS, HALT, Tape, apply, delta, start


# ---------------------------------------------------------------- runs, traces, pairs, oracle
def q0_lines(m: str, a: str, b: str = "") -> list[str]:
    """The two lines that start machine ``m`` (what the input aligner or a calling composer writes)."""
    if m in EXECUTORS:
        t = start(m, a, b)
        return [state_line(t), cmd_line(t)]
    c = comp_start(m, a, b)
    return [comp_state_line(c), comp_cmd_line(c)]


def final_config(m: str, a: str, b: str = "") -> Tape | Comp:
    """The halt configuration of ``m`` on (a, b), run by the oracle."""
    if m in EXECUTORS:
        t = start(m, a, b)
        while t.q != HALT:
            t = apply(t, delta(t))
        return t
    c, R = comp_start(m, a, b), None
    while c.q != HALT:
        sets, nxt = comp_trans(c, R)
        c, R = comp_apply(c, sets, nxt, R), None
        call = comp_call(c) if c.q != HALT else None
        if call is not None:
            R = config_result(final_config(call.machine, *call_args(c, call)))
    return c


def config_result(x: Tape | Comp) -> str:
    """The result held by a halt configuration."""
    from mathwright.machines.composers import comp_result
    from mathwright.machines.executors import result

    return result(x) if isinstance(x, Tape) else comp_result(x)


def halt_state_line(x: Tape | Comp) -> str:
    return state_line(x) if isinstance(x, Tape) else comp_state_line(x)


def trace(m: str, a: str, b: str = "") -> list[str]:
    """Every state and command line of a run, callee traces inlined after each ``[CALL]`` line."""
    if m in EXECUTORS:
        t, lines = start(m, a, b), []
        while True:
            lines += [state_line(t), cmd_line(t)]
            if t.q == HALT:
                return lines
            t = apply(t, delta(t))
    c, R, lines = comp_start(m, a, b), None, []
    while True:
        lines += [comp_state_line(c), comp_cmd_line(c)]
        if c.q == HALT:
            return lines
        call = comp_call(c)
        if call is not None:
            args = call_args(c, call)
            lines += trace(call.machine, *args)
            R = config_result(final_config(call.machine, *args))
        sets, nxt = comp_trans(c, R)
        c, R = comp_apply(c, sets, nxt, R), None


def _stale_halt(c: Comp, x: Tape | Comp) -> str:
    """The callee halt line as the reference generator writes it into composer prompts (section 10)."""
    if c.m == "SUB" and c.q in ("q2", "q3"):
        return state_line(replace(x, reg="0"))
    if c.m == "SUB" and c.q == "q4":
        return state_line(replace(x, out=x.a[:-1]))  # masked tape, leading zeros kept
    if c.m == "MUL" and c.q == "q1":
        return state_line(replace(x, a=x.a[::-1]))  # counter in normal digit order
    return halt_state_line(x)


def _comp_lines(c: Comp) -> list[str]:
    lines = [comp_state_line(c), comp_cmd_line(c)]
    call = comp_call(c) if c.q != HALT else None
    if call is not None:
        lines += q0_lines(call.machine, *call_args(c, call))
    return lines


def executor_configs(m: str, a: str, b: str = "") -> list[Tape]:
    """Every configuration of executor ``m`` from q0 to qH."""
    t = start(m, a, b)
    seq = [t]
    while t.q != HALT:
        t = apply(t, delta(t))
        seq.append(t)
    return seq


def step_pairs(m: str, a: str, b: str = "", compat: bool = True,
               select: "Callable[[int], list[int]] | None" = None) -> list[tuple[str, str]]:
    """(prompt, response) training pairs for every step machine ``m`` itself takes on (a, b);
    ``select(n_pairs)`` may pick which pair indices to render (executors only; the rest are skipped)."""
    if m in EXECUTORS:
        if m == "ADD" and select is not None and a and b:  # closed form: only the kept steps are rendered
            return add_pairs(a, b, select(max(len(a), len(b)) + 2))
        seq = executor_configs(m, a, b)
        idx = select(len(seq) - 1) if select else range(len(seq) - 1)
        text = {}
        for i in sorted({j for k in idx for j in (k, k + 1)}):
            text[i] = state_line(seq[i]) + "\n" + cmd_line(seq[i]) + "\n"
        return [(text[i], text[i + 1]) for i in idx]
    pairs, c, R = [], comp_start(m, a, b), None
    prompt = "\n".join(_comp_lines(c)) + "\n"
    while c.q != HALT:
        call = comp_call(c)
        if call is not None:
            x = final_config(call.machine, *call_args(c, call))
            R = config_result(x)
            halt = _stale_halt(c, x) if compat else halt_state_line(x)
            prompt = f"{comp_state_line(c)}\n{comp_cmd_line(c)}\n{halt}\n{HALT_LINE}\n"
        sets, nxt = comp_trans(c, R)
        c, R = comp_apply(c, sets, nxt, R), None
        response = "\n".join(_comp_lines(c)) + ("" if compat else "\n")
        pairs.append((prompt, response))
        prompt = response if response.endswith("\n") else response + "\n"
    return pairs


def oracle_response(prompt: str) -> str:
    """The oracle's response to a CAEF prompt (2-line step, or 4-line composer return).

    >>> print(oracle_response("ADD, q0, [HEAD1] |5|4[HEAD2] |7|6 [C] [OUTPUT]\\n"
    ...                       "CMD: [C] 0, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\\n"), end="")
    ADD, q1,  [HEAD1]|5|4 [HEAD2]|7|6 [C]0 [OUTPUT]
    CMD: [C] 1, [OUTPUT] 2, [OUTPUT] RIGHT, [HEAD1] RIGHT, [HEAD2] RIGHT, q1
    """
    lines = prompt.rstrip("\n").split("\n")
    name = lines[0].split(",", 1)[0]
    if name in EXECUTORS:
        t = parse_state(lines[0])
        if len(lines) < 2 or lines[1] != cmd_line(t):
            raise ValueError(f"command line does not match its state: {lines[1:2]!r}")
        if t.q == HALT:
            raise ValueError("machine is halted")
        t = apply(t, delta(t))
        return state_line(t) + "\n" + cmd_line(t) + "\n"
    c = parse_comp_state(lines[0])
    if c.q == HALT:
        raise ValueError("machine is halted")
    call = comp_call(c)
    R = None
    if call is not None:
        if len(lines) < 4 or lines[3] != HALT_LINE:
            raise ValueError(f"{name} {c.q} calls {call.machine}: prompt needs its halt state and halt line")
        R = halt_result(lines[2])
    if lines[1] != comp_cmd_line(c):
        raise ValueError(f"command line does not match its state: {lines[1]!r}")
    sets, nxt = comp_trans(c, R)
    return "\n".join(_comp_lines(comp_apply(c, sets, nxt, R))) + "\n"


def check(prompt: str, response: str) -> list[int]:
    """Line numbers (1-based) of ``response`` that differ from the oracle's; empty when all match."""
    want = oracle_response(prompt).rstrip("\n").split("\n")
    got = response.rstrip("\n").split("\n")
    bad = [i + 1 for i in range(max(len(want), len(got)))
           if i >= len(want) or i >= len(got) or want[i] != got[i]]
    return bad


# ---------------------------------------------------------------- aligners and the FORMATS entry
_ALIGN = re.compile(r"^\s*(\d+)\s*(\+|-|\*|//|>|<|==)\s*(\d+)\s*=\s*$")
OP_OF_SYMBOL = {OPERATORS[o].caef: OPERATORS[o].machine for o in ("add", "sub", "mul", "div", "gt", "lt", "eq")}
SYMBOL_OF_OP = {v: k for k, v in OP_OF_SYMBOL.items()} | {"LMUL": "*", "LDIV": "//"}


def aligner_input(text: str) -> str:
    """Raw ``45+67=`` -> the machine's q0 state and command, two lines each ending in newline.

    >>> aligner_input("52-37=")
    'SUB, q0, [HEAD1]|2|5 [HEAD2]|7|3 \\nCMD q1\\n'
    """
    m = _ALIGN.match(text)
    if not m:
        raise ValueError(f"not a CAEF problem: {text!r} (expected e.g. '45+67=', ops + - * // > < ==)")
    a, op, b = m.groups()
    return "\n".join(q0_lines(OP_OF_SYMBOL[op], a[::-1], b[::-1])) + "\n"


def aligner_output(halt: str) -> str:
    """qH state line (+ halt line) -> ``a<op>b=result``.

    >>> aligner_output("ADD, qH,  |5|4[HEAD1] |7|6[HEAD2] [C]1 |2|1|1\\nNo command to execute. Halt state.")
    '45+67=112'
    """
    line = halt.split("\n", 1)[0]
    name = line.split(",", 1)[0]
    x = parse_state(line) if name in EXECUTORS else parse_comp_state(line)
    res = halt_result(line)
    res = res if res in ("True", "False") else (res[::-1] or "0")
    return f"{x.a[::-1]}{SYMBOL_OF_OP[name]}{x.b[::-1]}={res}"


def render(problem: "object", machines: str = "caef") -> dict:
    """A problem as CAEF text: the aligner input, the full trace and the aligner output."""
    plan = align(problem, machines)  # type: ignore[arg-type]
    if plan.machine is None:
        return {"input": problem.expr(False), "trace": "", "output": plan.answer}  # type: ignore[attr-defined]
    lines = trace(plan.machine, plan.a, plan.b)
    return {"input": f"{plan.a[::-1]}{SYMBOL_OF_OP[plan.machine]}{plan.b[::-1]}=", "trace": "\n".join(lines) + "\n",
            "output": aligner_output(lines[-2])}


def parse(text: str) -> str:
    """The result of a trace (or halt line): the output aligner's result."""
    halts = [ln for ln in text.split("\n") if re.match(r"^[A-Z_]+, qH,", ln)]
    if not halts:
        raise ValueError("no halt state in text")
    return aligner_output(halts[-1]).split("=", 1)[1]


def check_record(rec: dict) -> str | None:
    """None when a step record's response (``output``) is exactly the oracle's next step for its prompt
    (``instruction``): the records :mod:`mathwright.formats.caef_data` makes, full view or local (``mode``).

    Full-view ADD pairs are verified byte for byte against configurations recomputed by integer arithmetic
    (:func:`add_pair_ok`, about 5x cheaper than the stepping oracle at 1-100 digits); whatever that does not accept, and every other
    machine, is decided by the stepping oracle."""
    if rec.get("machine") == "ADD" and rec.get("mode") == "full" and add_pair_ok(rec["instruction"], rec["output"]):
        return None
    try:
        if rec.get("mode") == "local":
            want = L.oracle_local(rec["instruction"])
            return None if want == rec["output"] else f"response {rec['output']!r} != oracle {want!r}"
        bad = check(rec["instruction"], rec["output"])
    except (ValueError, KeyError, IndexError) as e:
        return f"prompt not understood by the oracle: {e}"
    return None if not bad else f"response lines {bad} differ from the oracle"


from types import SimpleNamespace  # noqa: E402

FORMAT = SimpleNamespace(name="caef", render=render, parse=parse, check=check_record, step=oracle_response)
