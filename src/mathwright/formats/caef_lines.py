"""The CAEF line grammar: the state and command lines of executors and composers, rendered from a machine
configuration and parsed back (strict: ``render(parse(x)) == x``). Byte for byte as the reference (docs caef.md).

- :func:`state_line` / :func:`cmd_line` render an executor configuration and its command;
  :func:`comp_state_line` / :func:`comp_cmd_line` a composer's.
- :func:`parse_state` / :func:`parse_comp_state` read them back; :func:`halt_result` reads a halt line's result.

>>> from mathwright.machines.executors import start
>>> state_line(start("ADD", "54", "76"))
'ADD, q0, [HEAD1] |5|4[HEAD2] |7|6 [C] [OUTPUT]'
"""
from __future__ import annotations

import re

from mathwright.machines.composers import COMPOSERS, Comp, comp_apply, comp_call, comp_trans
from mathwright.machines.executors import EXECUTORS, HALT, Tape, delta

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
