"""CAEF executors, each defined once as a transition function ``delta(tape) -> Cmd``.

A :class:`Tape` is an executor configuration (state, two operand tapes with heads, a register, the output
tape). A :class:`Cmd` is what a step does (register write, output write or erase, head moves, next
state); :func:`apply` executes any command on any tape, so the same definition drives the oracle, the
CAEF text format (which renders tapes and commands) and the local-view format (where the runtime applies
the command the model emits).

Digits are stored least significant first, as CAEF writes them: 45 -> ``"54"``.

>>> run("ADD", rev(45), rev(67))[-1].out
'211'
>>> [t.q for t in run("EQUAL", rev(12), rev(12))]
['q0', 'q1', 'q1', 'q1', 'qH']
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

HALT = "qH"


def rev(n: int | str) -> str:
    """Reversed digit string of a non-negative integer: ``rev(45) == '54'``."""
    return str(n)[::-1]


def val(digits: str) -> int:
    """Integer from a reversed digit string (empty means 0): ``val('54') == 45``."""
    return int(digits[::-1]) if digits else 0


@dataclass(frozen=True, slots=True)
class Tape:
    """Executor configuration. Heads are indices into ``a``/``b``; -1 is q0's 'before the tape'."""

    m: str
    q: str
    a: str
    b: str = ""
    h1: int = -1
    h2: int = -1
    reg: str = ""  # carry digit, or True/False; '' before q0's command sets it
    out: str = ""

    def cell(self, k: int) -> str:
        """Digit under head k (1 or 2), '_' past the end, '^' before the start."""
        s, h = (self.a, self.h1) if k == 1 else (self.b, self.h2)
        return "^" if h < 0 else (s[h] if h < len(s) else "_")


@dataclass(frozen=True, slots=True)
class Cmd:
    """One step: write the register, write/erase output, move heads right, go to ``nxt``."""

    nxt: str
    reg: str | None = None
    write: str | None = None  # digit written at the output head, which then moves RIGHT
    pop: bool = False  # output head LEFT: the last output digit is erased
    m1: bool = False
    m2: bool = False
    fin: str | None = None  # ADD-style halt: names the last carry, appended only when non-zero


def apply(t: Tape, c: Cmd) -> Tape:
    """Execute command ``c`` on tape ``t`` (the runtime's half of a step)."""
    out = t.out
    if c.pop:
        out = out[:-1]
    if c.write is not None:
        out += c.write
    if c.fin is not None and c.fin != "0":
        out += c.fin
    return Tape(t.m, c.nxt, t.a, t.b, t.h1 + c.m1, t.h2 + c.m2, t.reg if c.reg is None else c.reg, out)


def _d(s: str, h: int) -> int:
    return int(s[h]) if 0 <= h < len(s) else 0


def _add(t: Tape) -> Cmd:
    if t.q == "q0":
        return Cmd("q1", reg="0", m1=True, m2=True)
    on1, on2 = t.h1 < len(t.a), t.h2 < len(t.b)
    if on1 or on2:
        s = _d(t.a, t.h1) + _d(t.b, t.h2) + int(t.reg)
        return Cmd("q1", reg=str(s // 10), write=str(s % 10), m1=on1, m2=on2)
    return Cmd(HALT, fin=t.reg)


def _equal(t: Tape) -> Cmd:
    if t.q == "q0":
        return Cmd("q1", reg="True", m1=True, m2=True)
    on1, on2 = t.h1 < len(t.a), t.h2 < len(t.b)
    if on1 and on2 and t.a[t.h1] == t.b[t.h2]:
        return Cmd("q1", m1=True, m2=True)
    if not on1 and not on2:
        return Cmd(HALT)
    return Cmd(HALT, reg="False")


def _compare(greater: bool) -> Callable[[Tape], Cmd]:
    def delta(t: Tape) -> Cmd:
        if t.q == "q0":
            return Cmd("q1", reg="False", m1=True, m2=True)
        on1, on2 = t.h1 < len(t.a), t.h2 < len(t.b)
        if on1 and on2:
            x, y = t.a[t.h1], t.b[t.h2]
            if x == y:
                return Cmd("q1", m1=True, m2=True)
            return Cmd("q1", reg=str(x > y if greater else x < y), m1=True, m2=True)
        if not on1 and not on2:
            return Cmd(HALT)
        return Cmd(HALT, reg=str(on1 if greater else on2))  # the longer operand is the larger

    return delta


def _reflection(t: Tape) -> Cmd:
    if t.q == "q0":
        return Cmd("q1", m1=True, m2=True)
    if t.q == "q1":
        if t.h1 < len(t.a) or t.h2 < len(t.b):
            return Cmd("q1", write=str(9 - _d(t.b, t.h2)), m1=t.h1 < len(t.a), m2=t.h2 < len(t.b))
        return Cmd("q2")
    if t.out and t.out[-1] == "0":  # q2: strip leading zeros of the result
        return Cmd("q2", pop=True)
    return Cmd(HALT)


def _left_mask(t: Tape) -> Cmd:
    if t.q == "q0":
        return Cmd("q1", m1=True)
    if t.q == "q1":
        if t.h1 < len(t.a):
            return Cmd("q1", write=t.a[t.h1], m1=True)
        return Cmd("q2", pop=True)  # erase the copied leading 1
    if t.out and t.out[-1] == "0":
        return Cmd("q2", pop=True)
    return Cmd(HALT)


def _muld(t: Tape) -> Cmd:
    """Beyond CAEF: a x d for one digit d (tape b), one column per step."""
    if t.q == "q0":
        return Cmd("q1", reg="0", m1=True, m2=True)
    if t.h1 < len(t.a):
        s = int(t.a[t.h1]) * int(t.b[0]) + int(t.reg)
        return Cmd("q1", reg=str(s // 10), write=str(s % 10), m1=True)
    return Cmd(HALT, fin=t.reg)


def _subx(t: Tape) -> Cmd:
    """Beyond CAEF: a - b for a >= b by borrowing, then strip leading zeros (keep one digit)."""
    if t.q == "q0":
        return Cmd("q1", reg="0", m1=True, m2=True)
    if t.q == "q1":
        if t.h1 < len(t.a):
            s = int(t.a[t.h1]) - _d(t.b, t.h2) - int(t.reg)
            return Cmd("q1", reg=str(int(s < 0)), write=str(s % 10), m1=True, m2=t.h2 < len(t.b))
        return Cmd("q2")
    if len(t.out) > 1 and t.out[-1] == "0":
        return Cmd("q2", pop=True)
    return Cmd(HALT)


EXECUTORS: dict[str, Callable[[Tape], Cmd]] = {
    "ADD": _add,
    "EQUAL": _equal,
    "GREATER_THAN": _compare(True),
    "LESS_THAN": _compare(False),
    "REFLECTION": _reflection,
    "LEFT_MASK": _left_mask,
    "MULD": _muld,
    "SUBX": _subx,
}
CAEF_EXECUTORS = ("ADD", "EQUAL", "GREATER_THAN", "LESS_THAN", "REFLECTION", "LEFT_MASK")


def delta(t: Tape) -> Cmd:
    """The transition function of ``t.m`` at configuration ``t``."""
    if t.q == HALT:
        raise ValueError(f"{t.m} is halted")
    return EXECUTORS[t.m](t)


def start(m: str, a: str, b: str = "") -> Tape:
    """The q0 configuration of executor ``m`` on reversed digit strings ``a``, ``b``."""
    if m not in EXECUTORS:
        raise KeyError(f"unknown executor {m!r}; known: {', '.join(EXECUTORS)}")
    return Tape(m, "q0", a, b)


def add_config(a: str, b: str, k: int) -> Tape:
    """ADD's k-th configuration computed directly, without stepping (k = 0 is q0; the last is qH).

    >>> add_config("54", "76", 2) == run("ADD", "54", "76")[2]
    True
    """
    n = max(len(a), len(b))
    if k == 0:
        return Tape("ADD", "q0", a, b)
    j = k - 1  # columns done
    if j > n + 1:
        raise IndexError(k)
    s = val(a) + val(b)
    if j <= n:
        low = 10 ** j
        carry = (val(a[:j]) + val(b[:j])) // low
        return Tape("ADD", "q1", a, b, min(j, len(a)), min(j, len(b)), str(carry), rev(s)[:j])
    return Tape("ADD", HALT, a, b, len(a), len(b), str(s // 10**n), rev(s))


def run(m: str, a: str, b: str = "", max_steps: int = 1_000_000) -> list[Tape]:
    """Every configuration from q0 to qH."""
    t = start(m, a, b)
    seq = [t]
    while t.q != HALT:
        t = apply(t, delta(t))
        seq.append(t)
        if len(seq) > max_steps:
            raise RuntimeError(f"{m} did not halt in {max_steps} steps")
    return seq


def result(t: Tape) -> str:
    """An executor's answer from its halt tape: reversed digits, or 'True'/'False'."""
    if t.m in ("EQUAL", "GREATER_THAN", "LESS_THAN"):
        return t.reg
    return t.out or "0"
