"""Composers: machines that call executors (or other composers) as subroutines.

A composer configuration :class:`Comp` holds its operands and named registers. Each composer is defined
once by two functions:

- ``call(c)``: the subroutine state ``c.q`` calls, as ``Call(machine, arg expressions, label)``, or None
  for a state that computes without a call (CAEF's q0s);
- ``trans(c, R)``: the transition out of ``c.q`` given the callee's result ``R`` (None without a call):
  register assignments (expressions the runtime evaluates, see :func:`evalx`) and the next state.

Register expressions are tape operations, not arithmetic: ``shl(t,j)`` puts j zeros in front of the
reversed digits of t, ``cat(r,dig(a,i))`` brings down the i-th digit of a, ``inc(j)`` moves a head.

CAEF's SUB, MUL and DIV are reproduced; LMUL (digit x number, shifted add) and LDIV (compare and subtract
per quotient digit) are beyond CAEF: their steps grow with operand length, not value.

>>> from mathwright.machines.executors import rev
>>> compute("LMUL", rev(123456789), rev(987654321)) == rev(123456789 * 987654321)
True
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

from mathwright.machines.executors import HALT, EXECUTORS, apply, delta, result, start, val


@dataclass(frozen=True, slots=True)
class Comp:
    """Composer configuration: operands (reversed digits) and registers."""

    m: str
    q: str
    a: str
    b: str
    regs: tuple[tuple[str, str], ...] = ()

    def get(self, k: str, default: str = "") -> str:
        if k == "a":
            return self.a
        if k == "b":
            return self.b
        for name, v in self.regs:
            if name == k:
                return v
        return default

    def set(self, updates: dict[str, str], q: str) -> "Comp":
        regs = dict(self.regs)
        regs.update(updates)
        return Comp(self.m, q, self.a, self.b, tuple(regs.items()))


class Call(NamedTuple):
    machine: str
    args: tuple[str, ...]
    label: str  # the state named in CAEF's ``CMD [CALL] X, <label>``


Sets = tuple[tuple[str, str], ...]


def norm(d: str) -> str:
    """Canonical reversed digits: drop leading zeros (trailing here), keep one digit."""
    d = d.rstrip("0")
    return d or "0"


def evalx(expr: str, c: Comp, R: str | None = None) -> str:
    """Evaluate a register expression on configuration ``c`` with callee result ``R``.

    >>> c = Comp("LMUL", "q2", "21", "34", (("t", "42"), ("j", "1")))
    >>> evalx("shl(t,j)", c), evalx("dig(b,j)", c), evalx("inc(j)", c), evalx("nines(a)", c)
    ('042', '4', '2', '99')
    """
    if expr == "R":
        if R is None:
            raise ValueError("no callee result")
        return R if R in ("True", "False") else norm(R)
    if expr.isdigit():
        return expr
    if "(" not in expr:
        return c.get(expr)
    fn, rest = expr.split("(", 1)
    parts = _split_args(rest[:-1])
    x = [evalx(p, c, R) for p in parts]
    if fn == "nines":
        return "9" * len(x[0])
    if fn == "shl":
        return x[0] if x[0] == "0" else "0" * int(x[1]) + x[0]
    if fn == "inc":
        return str(int(x[0]) + 1)
    if fn == "dig":  # digit under an index into a reversed tape
        return x[0][int(x[1])]
    if fn == "msd":  # the i-th digit from the most significant end
        return x[0][len(x[0]) - 1 - int(x[1])]
    if fn == "cat":  # r*10 + d on reversed digits
        return x[1] if x[0] == "0" else x[1] + x[0]
    if fn == "qcat":  # append a quotient digit; no leading zeros
        return "" if (x[0] == "" and x[1] == "0") else x[1] + x[0]
    raise ValueError(f"unknown register expression {expr!r}")


def _split_args(s: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += (ch == "(") - (ch == ")")
        cur += ch
    return out + [cur]


# --- SUB (CAEF): a - b = LEFT_MASK(a + (99..9 - b) + 1), 5 transitions -------------------------------
def _sub_call(c: Comp) -> Call | None:
    return {
        "q1": Call("REFLECTION", ("nines(a)", "b"), "q2"),
        "q2": Call("ADD", ("a", "t"), "q3"),
        "q3": Call("ADD", ("t", "1"), "q4"),
        "q4": Call("LEFT_MASK", ("t",), HALT),
    }.get(c.q)


def _sub_trans(c: Comp, R: str | None) -> tuple[Sets, str]:
    nxt = {"q0": "q1", "q1": "q2", "q2": "q3", "q3": "q4", "q4": HALT}[c.q]
    if c.q == "q0":
        return (), nxt
    return ((("out" if c.q == "q4" else "t"), "R"),), nxt


# --- MUL (CAEF): repeated addition, 3b - 1 transitions -----------------------------------------------
def _mul_call(c: Comp) -> Call | None:
    return {
        "q1": Call("LESS_THAN", ("cnt", "b"), "q2"),
        "q2": Call("ADD", ("a", "out"), "q3"),
        "q3": Call("ADD", ("cnt", "1"), "q1"),
    }.get(c.q)


def _mul_trans(c: Comp, R: str | None) -> tuple[Sets, str]:
    if c.q == "q0":
        return (("cnt", "1"), ("out", "a")), "q1"
    if c.q == "q1":
        return (), ("q2" if R == "True" else HALT)
    return ((("out" if c.q == "q2" else "cnt"), "R"),), ("q3" if c.q == "q2" else "q1")


# --- DIV (CAEF): repeated addition of the divisor, 3q + 2 transitions --------------------------------
def _div_call(c: Comp) -> Call | None:
    return {
        "q1": Call("GREATER_THAN", ("cnt", "a"), "q2"),
        "q2": Call("ADD", ("out", "1"), "q3"),
        "q3": Call("ADD", ("b", "cnt"), "q1"),
    }.get(c.q)


def _div_trans(c: Comp, R: str | None) -> tuple[Sets, str]:
    if c.q == "q0":
        return (("cnt", "b"), ("out", "0")), "q1"
    if c.q == "q1":
        return (), ("q2" if R == "False" else HALT)
    return ((("out" if c.q == "q2" else "cnt"), "R"),), ("q3" if c.q == "q2" else "q1")


# --- LMUL (beyond CAEF): per digit of b, MULD(a, d) then ADD(acc, partial shifted by j) --------------
def _lmul_last(c: Comp) -> bool:
    return int(c.get("j", "0")) + 1 >= len(c.b)


def _lmul_call(c: Comp) -> Call | None:
    if c.q == "q1" and c.b[int(c.get("j"))] != "0":
        return Call("MULD", ("a", "dig(b,j)"), "q2")
    if c.q == "q2":
        return Call("ADD", ("out", "shl(t,j)"), HALT if _lmul_last(c) else "q1")
    return None


def _lmul_trans(c: Comp, R: str | None) -> tuple[Sets, str]:
    if c.q == "q0":
        return (("out", "0"), ("j", "0")), "q1"
    nxt = HALT if _lmul_last(c) else "q1"
    if c.q == "q1":
        if R is None:  # digit 0: nothing to add, move on
            return (("j", "inc(j)"),), nxt
        return (("t", "R"),), "q2"
    return (("out", "R"), ("j", "inc(j)")), nxt


# --- LDIV (beyond CAEF): bring down a digit, then compare and subtract until b > r --------------------
def _ldiv_call(c: Comp) -> Call | None:
    return {"q2": Call("GREATER_THAN", ("b", "r"), "q3"), "q3": Call("SUBX", ("r", "b"), "q2")}.get(c.q)


def _ldiv_trans(c: Comp, R: str | None) -> tuple[Sets, str]:
    if c.q == "q0":
        return (("r", "0"), ("qd", "0"), ("i", "0")), "q1"
    if c.q == "q1":
        return (("r", "cat(r,msd(a,i))"), ("qd", "0"), ("i", "inc(i)")), "q2"
    if c.q == "q2":
        if R == "False":
            return (), "q3"
        return (("out", "qcat(out,qd)"),), (HALT if int(c.get("i")) >= len(c.a) else "q1")
    return (("r", "R"), ("qd", "inc(qd)")), "q2"


class Composer(NamedTuple):
    call: Callable[[Comp], Call | None]
    trans: Callable[[Comp, str | None], tuple[Sets, str]]


COMPOSERS: dict[str, Composer] = {
    "SUB": Composer(_sub_call, _sub_trans),
    "MUL": Composer(_mul_call, _mul_trans),
    "DIV": Composer(_div_call, _div_trans),
    "LMUL": Composer(_lmul_call, _lmul_trans),
    "LDIV": Composer(_ldiv_call, _ldiv_trans),
}
CAEF_COMPOSERS = ("SUB", "MUL", "DIV")


def comp_start(m: str, a: str, b: str) -> Comp:
    """q0 configuration of composer ``m``."""
    if m not in COMPOSERS:
        raise KeyError(f"unknown composer {m!r}; known: {', '.join(COMPOSERS)}")
    if m == "LDIV" and val(b) == 0:
        raise ValueError("division by zero")
    return Comp(m, "q0", a, b)


def comp_call(c: Comp) -> Call | None:
    return COMPOSERS[c.m].call(c)


def comp_trans(c: Comp, R: str | None) -> tuple[Sets, str]:
    return COMPOSERS[c.m].trans(c, R)


def comp_apply(c: Comp, sets: Sets, nxt: str, R: str | None) -> Comp:
    """Apply assignments (all evaluated on the old configuration) and move to ``nxt``."""
    return c.set({k: evalx(e, c, R) for k, e in sets}, nxt)


def call_args(c: Comp, call: Call) -> tuple[str, ...]:
    return tuple(evalx(e, c) for e in call.args)


def comp_result(c: Comp) -> str:
    """A composer's answer from its halt configuration (reversed digits)."""
    return c.get("out") or "0"


def run_machine(m: str, a: str, b: str = "") -> str:
    """Run any machine to halt with the oracle; the reversed result (or True/False)."""
    if m in EXECUTORS:
        t = start(m, a, b)
        while t.q != HALT:
            t = apply(t, delta(t))
        return result(t)
    c = comp_start(m, a, b)
    R: str | None = None
    while c.q != HALT:
        sets, nxt = comp_trans(c, R)
        c = comp_apply(c, sets, nxt, R)
        R = None
        call = comp_call(c) if c.q != HALT else None
        if call is not None:
            R = run_machine(call.machine, *call_args(c, call))
    return comp_result(c)


compute = run_machine
