"""The CAEF text format (byte for byte as the reference, see docs caef.md), rendered from the machines.

- :func:`state_line` / :func:`cmd_line` render an executor configuration and its command;
  :func:`comp_state_line` / :func:`comp_cmd_line` a composer's.
- :func:`parse_state` / :func:`parse_comp_state` read them back (strict: ``render(parse(x)) == x``).
- :func:`trace` is a machine's full trace, callees inlined; :func:`step_pairs` the training pairs
  (2-line executor steps, 4-line composer steps); :func:`oracle_response` the oracle's next step for any
  prompt; :func:`check` verifies every line of a pair against the oracle.
- ``compat=True`` reproduces the reference generator's composer prompts, including its stale callee halt
  lines (caef.md section 10); ``compat=False`` ("fixed") uses the real callee halt lines.

>>> print(trace("ADD", "54", "76")[-2])
ADD, qH,  |5|4[HEAD1] |7|6[HEAD2] [C]1 |2|1|1
"""
from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import Callable

from mathwright.formats import local as L
from mathwright.machines.aligner import align
from mathwright.machines.composers import (COMPOSERS, Comp, call_args, comp_apply, comp_call, comp_start,
                                           comp_trans, norm)
from mathwright.machines.executors import EXECUTORS, HALT, Tape, apply, delta, start, val

HALT_LINE = "No command to execute. Halt state."
BOOL_REG = ("EQUAL", "GREATER_THAN", "LESS_THAN")


def dg(s: str) -> str:
    """``'54'`` -> ``'|5|4'``."""
    return "|" + "|".join(s) if s else ""


# ---------------------------------------------------------------- executors
def state_line(t: Tape) -> str:
    """The CAEF state line of an executor configuration."""
    if t.m == "LEFT_MASK":
        if t.q == "q0":
            return f"LEFT_MASK, q0, [HEAD] {dg(t.a)} [OUTPUT]"
        left, right = dg(t.a[:t.h1]), dg(t.a[t.h1:])
        if t.q == HALT:
            return f"LEFT_MASK, qH,  {left}[HEAD]{right} {dg(t.out) or '0'}"
        return f"LEFT_MASK, {t.q},  {left}[HEAD]{right} {dg(t.out)}[OUTPUT]"
    carry = t.m in ("ADD", "MULD", "SUBX")
    if t.q == "q0":
        return f"{t.m}, q0, [HEAD1] {dg(t.a)}[HEAD2] {dg(t.b)}{' [C]' if carry else ''} [OUTPUT]"
    tapes = f"{dg(t.a[:t.h1])}[HEAD1]{dg(t.a[t.h1:])} {dg(t.b[:t.h2])}[HEAD2]{dg(t.b[t.h2:])}"
    reg = f" [C]{t.reg}" if carry else ""
    if t.m in BOOL_REG:
        return f"{t.m}, {t.q},  {tapes} " + (t.reg if t.q == HALT else f"[OUTPUT]{t.reg}")
    out = dg(t.out)
    if t.m == "REFLECTION" and t.q != "q1":  # the reference renders '|' for an emptied output
        out = "|" + "|".join(t.out) if t.out else ("|" if t.q == "q2" else "|0")
    if t.q == HALT:
        return f"{t.m}, qH,  {tapes}{reg} {out or '|0'}"
    return f"{t.m}, {t.q},  {tapes}{reg} {out}[OUTPUT]"


def cmd_line(t: Tape) -> str:
    """The CAEF command line of configuration ``t`` (the halt line at qH)."""
    if t.q == HALT:
        return HALT_LINE
    c = delta(t)
    if t.m == "LEFT_MASK":
        if t.q == "q0":
            return "CMD [HEAD] RIGHT, q1"
        if c.write is not None:
            return f"CMD [HEAD] RIGHT, [OUTPUT] {c.write}, [OUTPUT] RIGHT, q1"
        if t.q == "q1":
            return "CMD [OUTPUT] LEFT, [OUTPUT] 0, q2"
        return "CMD [OUTPUT] LEFT, q2" if c.pop else "CMD qH"
    moves = "[HEAD1] RIGHT, " * c.m1 + "[HEAD2] RIGHT, " * c.m2
    if t.m in ("ADD", "MULD", "SUBX"):
        p = "CMD:" if t.m == "ADD" else "CMD"
        if t.q == "q0":
            return f"{p} [C] 0, [HEAD1] RIGHT, [HEAD2] RIGHT, q1"
        if c.write is not None:
            return f"{p} [C] {c.reg}, [OUTPUT] {c.write}, [OUTPUT] RIGHT, {moves}q1"
        if c.fin is not None:
            return f"{p} [OUTPUT] {c.fin}, [OUTPUT], [C], qH"
        if c.nxt == "q2":
            return "CMD q2"
        return "CMD [OUTPUT] LEFT, q2" if c.pop else "CMD [OUTPUT], qH"
    if t.m in BOOL_REG:
        if c.nxt == "q1":
            return f"CMD {moves}" + (f"[OUTPUT] {c.reg}, " if c.reg is not None else "") + "q1"
        return f"CMD [OUTPUT] {c.reg}, [OUTPUT], qH" if c.reg is not None else "CMD [OUTPUT], qH"
    # REFLECTION
    if t.q == "q0":
        return "CMD [HEAD1] RIGHT, [HEAD2] RIGHT, q1"
    if c.write is not None:
        return f"CMD {moves}[OUTPUT] {c.write}, [OUTPUT] RIGHT, q1"
    if c.nxt == "q2" and not c.pop:
        return "CMD q2"
    return "CMD [OUTPUT] LEFT, q2" if c.pop else "CMD [OUTPUT], qH"


# The states each executor's transition function can reach.
EXECUTOR_STATES = {"ADD": ("q0", "q1", HALT), "EQUAL": ("q0", "q1", HALT), "GREATER_THAN": ("q0", "q1", HALT),
                   "LESS_THAN": ("q0", "q1", HALT), "MULD": ("q0", "q1", HALT), "REFLECTION": ("q0", "q1", "q2", HALT),
                   "LEFT_MASK": ("q0", "q1", "q2", HALT), "SUBX": ("q0", "q1", "q2", HALT)}
_D = r"((?:\|\d)*)"
_HDR = re.compile(r"^([A-Z_]+), (q\w), (.*)$")


def _undg(s: str) -> str:
    return s.replace("|", "")


def parse_state(line: str) -> Tape:
    """Parse an executor state line; raise ValueError unless it is exactly a rendered state.

    >>> parse_state("ADD, q1,  |5[HEAD1]|4 |7[HEAD2]|6 [C]1 |2[OUTPUT]")
    Tape(m='ADD', q='q1', a='54', b='76', h1=1, h2=1, reg='1', out='2')
    """
    m = _HDR.match(line)
    if not m or m.group(1) not in EXECUTORS:
        raise ValueError(f"not an executor state line: {line!r}")
    name, q, rest = m.group(1), m.group(2), m.group(3)
    if q not in EXECUTOR_STATES[name]:  # the transition functions do not look at q1 vs an unknown q4
        raise ValueError(f"{name} has no state {q!r}: {line!r}")
    t = _parse_rest(name, q, rest)
    if t is None or state_line(t) != line:
        raise ValueError(f"malformed {name} state line: {line!r}")
    return t


def _parse_rest(name: str, q: str, rest: str) -> Tape | None:
    if name == "LEFT_MASK":
        if q == "q0":
            m = re.fullmatch(rf"\[HEAD\] {_D} \[OUTPUT\]", rest)
            return Tape(name, q, _undg(m.group(1))) if m else None
        m = re.fullmatch(rf" {_D}\[HEAD\]{_D} (.*?)(\[OUTPUT\])?", rest)
        if not m:
            return None
        out = "" if m.group(3) == "0" else _undg(m.group(3))
        return Tape(name, q, _undg(m.group(1) + m.group(2)), "", len(_undg(m.group(1))), -1, "", out)
    if q == "q0":
        m = re.fullmatch(rf"\[HEAD1\] {_D}\[HEAD2\] {_D}( \[C\])? \[OUTPUT\]", rest)
        return Tape(name, q, _undg(m.group(1)), _undg(m.group(2))) if m else None
    m = re.fullmatch(rf" {_D}\[HEAD1\]{_D} {_D}\[HEAD2\]{_D}(?: \[C\](\d))? (.*)", rest)
    if not m:
        return None
    l1, r1, l2, r2, carry, tail = m.groups()
    reg = carry or ""
    if name in BOOL_REG:
        reg, out = tail.replace("[OUTPUT]", ""), ""
    else:
        out = _undg(tail.replace("[OUTPUT]", ""))
        if q == HALT and name == "REFLECTION" and tail == "|0":
            out = ""  # ambiguous in the reference: '|0' is both an emptied tape and a real 0
    return Tape(name, q, _undg(l1 + r1), _undg(l2 + r2), len(_undg(l1)), len(_undg(l2)), reg, out)


def halt_result(line: str) -> str:
    """The result on a halt state line (the output aligner's rule): reversed digits or True/False."""
    tok = line.rsplit(" ", 1)[-1]
    return tok if tok in ("True", "False") else _undg(tok)


# ---------------------------------------------------------------- composers
def comp_state_line(c: Comp) -> str:
    """The state line of a composer configuration (single space after ``qX,``)."""
    A, B, g = dg(c.a), dg(c.b), c.get
    halt = c.q == HALT
    if c.m == "SUB":
        return f"SUB, {c.q}, [HEAD1]{A} [HEAD2]{B} " + (dg(g("out")) if halt else "")
    if c.m in ("MUL", "DIV"):
        return f"{c.m}, {c.q}, [HEAD1]{A} [HEAD2]{B} [COUNT]{dg(g('cnt'))} " + \
            (dg(g("out")) if halt else f"[OUTPUT]{dg(g('out'))}")
    if c.m == "LMUL":
        j = int(g("j", "0"))
        head = f"{dg(c.b[:j])}[HEAD2]{dg(c.b[j:])}"
        return f"LMUL, {c.q}, [HEAD1]{A} {head} " + (dg(g("out")) if halt else f"[OUTPUT]{dg(g('out'))}")
    # LDIV: HEAD1 walks a from its most significant digit (the right end of the reversed tape)
    k = len(c.a) - int(g("i", "0"))
    out = dg(g("out")) or ("|0" if halt else "")
    return (f"LDIV, {c.q}, {dg(c.a[:k])}[HEAD1]{dg(c.a[k:])} [HEAD2]{B} [REM]{dg(g('r'))} [QD]{g('qd')} "
            + (out if halt else f"[OUTPUT]{out}"))


def comp_cmd_line(c: Comp) -> str:
    """The command line of a composer configuration."""
    if c.q == HALT:
        return HALT_LINE
    call = comp_call(c)
    if call is not None:
        return f"CMD [CALL] {call.machine}, {call.label}"
    sets, nxt = comp_trans(c, None)
    if c.m == "SUB":
        return "CMD q1"
    if c.m == "MUL":
        return f"CMD [COUNT] 1, [OUTPUT]{dg(c.a)}, q1"
    if c.m == "DIV":
        return f"CMD [COUNT]{dg(c.b)}, [OUTPUT] 0, q1"
    new = comp_apply(c, sets, nxt, None)
    parts = []
    for k, _ in sets:
        v = new.get(k)
        if k in ("j", "i", "out") and v in ("0", "") and c.q == "q0" and k != "out" or (k == "out" and v == ""):
            continue  # q0 initialisations that leave heads and output where they are
        if k in ("j", "i"):
            parts.append(f"[HEAD{2 if k == 'j' else 1}] {'RIGHT' if k == 'j' else 'LEFT'}")
        elif k in ("qd",):
            parts.append(f"[QD] {v}")
        else:
            parts.append(f"[{'REM' if k == 'r' else 'OUTPUT'}]{dg(v)}")
    return "CMD " + ", ".join(dict.fromkeys(parts)) + f", {nxt}"


def parse_comp_state(line: str) -> Comp:
    """Parse a composer state line (visible registers only); raise ValueError if malformed."""
    m = _HDR.match(line)
    if not m or m.group(1) not in COMPOSERS:
        raise ValueError(f"not a composer state line: {line!r}")
    name, q, rest = m.group(1), m.group(2), m.group(3)
    regs: dict[str, str] = {}
    if name == "SUB":
        mm = re.fullmatch(rf"\[HEAD1\]{_D} \[HEAD2\]{_D} {_D}", rest)
        if mm:
            a, b = _undg(mm.group(1)), _undg(mm.group(2))
            if q == HALT:
                regs["out"] = _undg(mm.group(3))
    elif name in ("MUL", "DIV"):
        mm = re.fullmatch(rf"\[HEAD1\]{_D} \[HEAD2\]{_D} \[COUNT\]{_D} (?:\[OUTPUT\])?{_D}", rest)
        if mm:
            a, b = _undg(mm.group(1)), _undg(mm.group(2))
            if q != "q0":
                regs["cnt"], regs["out"] = _undg(mm.group(3)), _undg(mm.group(4))
    elif name == "LMUL":
        mm = re.fullmatch(rf"\[HEAD1\]{_D} {_D}\[HEAD2\]{_D} (?:\[OUTPUT\])?{_D}", rest)
        if mm:
            a, b = _undg(mm.group(1)), _undg(mm.group(2) + mm.group(3))
            if q != "q0":
                regs["out"], regs["j"] = _undg(mm.group(4)), str(len(_undg(mm.group(2))))
    else:
        mm = re.fullmatch(rf"{_D}\[HEAD1\]{_D} \[HEAD2\]{_D} \[REM\]{_D} \[QD\](\d?) (?:\[OUTPUT\])?{_D}", rest)
        if mm:
            a, b = _undg(mm.group(1) + mm.group(2)), _undg(mm.group(3))
            if q != "q0":
                regs.update(r=_undg(mm.group(4)), qd=mm.group(5), i=str(len(_undg(mm.group(2)))),
                            out=_undg(mm.group(6)))
                if q == HALT and regs["out"] == "0":
                    regs["out"] = ""
    if not mm:
        raise ValueError(f"malformed {name} state line: {line!r}")
    c = Comp(name, q, a, b, tuple(regs.items()))
    if comp_state_line(c) != line:
        raise ValueError(f"malformed {name} state line: {line!r}")
    return c


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


_ADD_Q0_CMD = "CMD: [C] 0, [HEAD1] RIGHT, [HEAD2] RIGHT, q1\n"


def add_pairs(a: str, b: str, idx: "list[int]") -> list[tuple[str, str]]:
    """ADD's step pairs ``idx`` (pair k: configuration k -> k + 1) on non-empty reversed digit strings,
    rendered straight from the closed form: after j columns the output holds the low j digits of a + b.

    Byte-identical to the stepped :func:`step_pairs`, but each step costs O(n) instead of the O(n^2) of
    stepping (and rendering) every configuration before it.

    >>> add_pairs("54", "76", [3]) == step_pairs("ADD", "54", "76")[3:4]
    True
    """
    la, lb = len(a), len(b)
    n = la if la > lb else lb
    s = str(val(a) + val(b)).zfill(n)[::-1]  # every digit ADD writes; a final carry makes it n + 1 long
    A, B, S = dg(a), dg(b), dg(s)
    last = 1 if len(s) > n else 0
    text: dict[int, str] = {}
    for i in {j for k in idx for j in (k, k + 1)}:
        j = i - 1  # columns done
        if i == 0:
            text[0] = _add_q0(A, B)
        elif j > n:
            text[i] = _add_halt(A, B, last, S)
        elif j == n:
            text[i] = _add_q1(j, last, None, A, B, la, lb, S)
        else:
            # the digit written at column j is s[j], so the carry into j is what makes the column sum match
            t = (int(a[j]) if j < la else 0) + (int(b[j]) if j < lb else 0)
            c = (int(s[j]) - t) % 10
            text[i] = _add_q1(j, c, t + c, A, B, la, lb, S)
    return [(text[k], text[k + 1]) for k in idx]


def _add_q0(A: str, B: str) -> str:
    return f"ADD, q0, [HEAD1] {A}[HEAD2] {B} [C] [OUTPUT]\n{_ADD_Q0_CMD}"


def _add_halt(A: str, B: str, c: int, S: str) -> str:
    return f"ADD, qH,  {A}[HEAD1] {B}[HEAD2] [C]{c} {S}\n{HALT_LINE}\n"


@lru_cache(maxsize=64)
def _add_truth(A: str, B: str) -> "tuple[str, str, int, int, int, int, int, str] | None":
    """(A, B, len a, len b, n, x, y, S) for the operand tapes A, B as rendered (``'|5|4'``), where x, y are the
    operands' values and S renders the digits of x + y; None unless A and B are exactly '|d' renderings
    of ASCII digits (no empty tape). Cached: the 7 records of one sequence share their operands."""
    a, b = A[1::2], B[1::2]
    # with ASCII digits at every odd position, as many bars as digits means a bar at every even position
    if not (a.isascii() and a.isdigit() and b.isascii() and b.isdigit()
            and 2 * A.count("|") == 2 * len(a) == len(A) and 2 * B.count("|") == 2 * len(b) == len(B)):
        return None
    x, y = int(a[::-1]), int(b[::-1])
    n = max(len(a), len(b))
    return A, B, len(a), len(b), n, x, y, dg(str(x + y).zfill(n)[::-1])


def _add_q1(j: int, c: int, col: int | None, A: str, B: str, la: int, lb: int, S: str) -> str:
    """Both lines of ADD's q1 configuration after j columns: carry ``c`` into column j, ``col`` = 10 x carry
    out + digit written at column j (None at j = n, where the machine halts next)."""
    h1, h2 = 2 * (j if j < la else la), 2 * (j if j < lb else lb)
    if col is None:
        cmd = f"CMD: [OUTPUT] {c}, [OUTPUT], [C], qH\n"
    else:
        cmd = (f"CMD: [C] {col // 10}, [OUTPUT] {col % 10}, [OUTPUT] RIGHT, "
               f"{'[HEAD1] RIGHT, ' if j < la else ''}{'[HEAD2] RIGHT, ' if j < lb else ''}q1\n")
    return f"ADD, q1,  {A[:h1]}[HEAD1]{A[h1:]} {B[:h2]}[HEAD2]{B[h2:]} [C]{c} {S[:2 * j]}[OUTPUT]\n{cmd}"


def _add_pair_text(k: int, A: str, B: str, la: int, lb: int, n: int, x: int, y: int,
                   S: str) -> tuple[str, str] | None:
    """ADD configurations k and k + 1, both lines each, from integer arithmetic alone: with
    ``L(j) = x mod 10^j + y mod 10^j`` (the low j columns of the operands), the carry into column j is
    ``L(j) // 10^j`` and ``L(j + 1) // 10^j`` is 10 x carry out + the digit written there; the output
    tape is the digits of x + y (rendered in ``S``). No digit loop, no stepping. None if k + 1 is past
    the halt."""
    if k == 0:
        return _add_q0(A, B), _add_q1(0, 0, x % 10 + y % 10, A, B, la, lb, S)
    j = k - 1
    if j < 0 or j > n:
        return None
    p = 10 ** j
    p1 = p * 10
    c, low1 = (x % p + y % p) // p, x % p1 + y % p1
    if j == n:
        return _add_q1(j, c, None, A, B, la, lb, S), _add_halt(A, B, c, S)
    first = _add_q1(j, c, low1 // p, A, B, la, lb, S)
    if j + 1 == n:
        return first, _add_q1(n, low1 // p1, None, A, B, la, lb, S)
    p2 = p1 * 10
    return first, _add_q1(j + 1, low1 // p1, (x % p2 + y % p2) // p1, A, B, la, lb, S)


def add_pair_ok(prompt: str, response: str) -> bool:
    """True only if (prompt, response) is exactly one ADD step: both are compared byte for byte with the
    configurations recomputed from the prompt's operands by integer arithmetic (:func:`_add_pair_text`), an
    oracle independent of the machine's stepping and of :func:`add_pairs`. False means "not shown here"
    (malformed, or a legal but unusual input such as an empty tape); :func:`check` then decides.

    >>> p, r = step_pairs("ADD", "54", "76")[2]
    >>> add_pair_ok(p, r), add_pair_ok(p, r.replace("[C]1", "[C]0"))
    (True, False)
    """
    line = prompt[:prompt.find("\n")]
    parts = line.split(" ")
    if len(parts) != 7:
        return False
    if line.startswith("ADD, q1,  "):  # the output tape is '|d' * j + '[OUTPUT]': k = j + 1
        truth = _add_truth(parts[3].replace("[HEAD1]", "", 1), parts[4].replace("[HEAD2]", "", 1))
        k = len(parts[6]) // 2 - 3
    elif line.startswith("ADD, q0, [HEAD1] "):
        truth, k = _add_truth(parts[3][:-7], parts[4]), 0
    else:
        return False  # a halted machine has no next step
    want = None if truth is None else _add_pair_text(k, *truth)
    return want is not None and prompt == want[0] and response == want[1]


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
OP_OF_SYMBOL = {"+": "ADD", "-": "SUB", "*": "MUL", "//": "DIV", ">": "GREATER_THAN", "<": "LESS_THAN",
                "==": "EQUAL"}
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
