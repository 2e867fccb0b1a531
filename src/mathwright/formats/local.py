"""Local-view format: the runtime holds the tapes; the model sees O(1) symbols and emits the command.

Executor step: prompt = machine, state, the cells under the two heads (``_`` past the end, ``^`` before
the start), the register and the last output cell (``+`` when more cells precede it); response = the
command: ``C<reg>`` register write, ``W<d>`` write + move output right, ``L`` erase (output head left),
``F<c>`` ADD's final carry, ``R1``/``R2`` head moves, then the next state.

Composer steps come in two kinds: ``?`` asks which subroutine the state calls (``CALL ADD out shl(t,j)
q1`` or ``NONE``); otherwise the prompt carries the callee result (``T``/``F``, ``#`` for a number,
``-`` for none) and the response is the transition: register assignments, ``>``, next state.

Every prompt ends with ``=`` and every response with ``\\n``; both come from the same machine
definitions as the CAEF format.

>>> from mathwright.machines.executors import Tape
>>> t = Tape("ADD", "q1", "54", "76", 1, 1, "1", "2")
>>> exec_prompt(t), exec_response(delta(t))
('ADD q1 4 6 1 -=', 'C1 W1 R1 R2 q1\\n')
"""
from __future__ import annotations

from mathwright.machines.composers import Call, Comp, Sets, comp_call, comp_trans
from mathwright.machines.executors import HALT, Cmd, Tape, delta

_B = {"True": "T", "False": "F"}
_UNB = {"T": "True", "F": "False"}


def _reg(v: str) -> str:
    return _B.get(v, v) or "-"


def exec_prompt(t: Tape) -> str:
    """The local view of an executor configuration."""
    # the output cell matters only when q2 strips zeros; elsewhere hiding it keeps the step table small
    o = "-" if not t.out or t.q != "q2" else t.out[-1] + ("+" if len(t.out) > 1 else "")
    c2 = t.cell(2) if t.m != "LEFT_MASK" else "-"
    return f"{t.m} {t.q} {t.cell(1)} {c2} {_reg(t.reg)} {o}="


def exec_response(c: Cmd) -> str:
    """The local text of an executor command."""
    parts = []
    if c.reg is not None:
        parts.append("C" + _reg(c.reg))
    if c.pop:
        parts.append("L")
    if c.write is not None:
        parts.append("W" + c.write)
    if c.fin is not None:
        parts.append("F" + c.fin)
    if c.m1:
        parts.append("R1")
    if c.m2:
        parts.append("R2")
    return " ".join(parts + [c.nxt]) + "\n"


def parse_exec_response(text: str) -> Cmd:
    """Inverse of :func:`exec_response`; ValueError on anything else."""
    toks = text.strip().split()
    if not toks or toks[-1] not in ("q0", "q1", "q2", HALT):
        raise ValueError(f"bad local command {text!r}")
    kw: dict = {}
    for tok in toks[:-1]:
        if tok[0] == "C" and len(tok) == 2 and "reg" not in kw:
            kw["reg"] = _UNB.get(tok[1], tok[1])
        elif tok[0] == "W" and len(tok) == 2 and tok[1].isdigit():
            kw["write"] = tok[1]
        elif tok[0] == "F" and len(tok) == 2 and tok[1].isdigit():
            kw["fin"] = tok[1]
        elif tok == "L":
            kw["pop"] = True
        elif tok == "R1":
            kw["m1"] = True
        elif tok == "R2":
            kw["m2"] = True
        else:
            raise ValueError(f"bad local command {text!r}")
    c = Cmd(toks[-1], **kw)
    if exec_response(c) != text.strip() + "\n":
        raise ValueError(f"bad local command {text!r}")
    return c


def _extra(c: Comp) -> str:
    """Composer flags the transition depends on: LMUL's digit under HEAD2 (zero or not) and whether it is
    the last; LDIV's whether a has digits left to bring down."""
    if c.m == "LMUL" and c.q in ("q1", "q2"):
        j = int(c.get("j", "0"))
        return f" {'z' if c.b[j] == '0' else 'd'}{'$' if j + 1 >= len(c.b) else '.'}"
    if c.m == "LDIV" and c.q == "q2":
        return " $" if int(c.get("i", "0")) >= len(c.a) else " ."
    return ""


def call_prompt(c: Comp) -> str:
    return f"{c.m} {c.q} ?{_extra(c)}="


def call_response(call: Call | None) -> str:
    if call is None:
        return "NONE\n"
    return " ".join(["CALL", call.machine, *call.args, call.label]) + "\n"


def parse_call_response(text: str) -> Call | None:
    toks = text.strip().split()
    if toks == ["NONE"]:
        return None
    if len(toks) < 4 or toks[0] != "CALL":
        raise ValueError(f"bad local call {text!r}")
    return Call(toks[1], tuple(toks[2:-1]), toks[-1])


def trans_prompt(c: Comp, R: str | None) -> str:
    r = "-" if R is None else _B.get(R, "#")
    return f"{c.m} {c.q} {r}{_extra(c)}="


def trans_response(sets: Sets, nxt: str) -> str:
    return " ".join([f"{k}={e}" for k, e in sets] + [">", nxt]) + "\n"


def parse_trans_response(text: str) -> tuple[Sets, str]:
    toks = text.strip().split()
    if len(toks) < 2 or toks[-2] != ">":
        raise ValueError(f"bad local transition {text!r}")
    sets = []
    for tok in toks[:-2]:
        k, eq, e = tok.partition("=")
        if not eq or not k or not e:
            raise ValueError(f"bad local transition {text!r}")
        sets.append((k, e))
    return tuple(sets), toks[-1]


# ------------------------------------------------------------------ the oracle, from the view alone
def oracle_local(prompt: str) -> str:
    """The correct response to a local-view prompt, computed from the prompt text only (which shows that
    the view holds everything a step needs).

    >>> oracle_local("ADD q1 9 _ 1 -=")
    'C1 W0 R1 q1\\n'
    """
    from mathwright.machines.composers import COMPOSERS

    toks = prompt.rstrip("=").split()
    m, q = toks[0], toks[1]
    if m in COMPOSERS:
        flag = toks[3] if len(toks) > 3 else ""
        if m == "LMUL":
            b = ("0" if flag[:1] == "z" else "1") + ("" if flag[1:] == "$" else "1")
            c = Comp(m, q, "1", b, (("j", "0"), ("t", "1"), ("out", "0")))
        elif m == "LDIV":
            c = Comp(m, q, "1", "1", (("i", "1" if flag == "$" else "0"), ("qd", "0"), ("r", "0"), ("out", "")))
        else:
            c = Comp(m, q, "1", "1", (("cnt", "1"), ("out", "1"), ("t", "1")))
        if toks[2] == "?":
            return call_response(comp_call(c))
        R = {"-": None, "#": "1"}.get(toks[2], _UNB.get(toks[2]))
        return trans_response(*comp_trans(c, R))
    c1, c2, reg, o = toks[2:6]

    def tape(cell: str) -> tuple[str, int]:
        return ("", 0) if cell == "_" else (("", -1) if cell == "^" else (cell, 0))

    a, h1 = tape(c1)
    b, h2 = tape(c2 if c2 != "-" else "_")
    out = "" if o == "-" else ("1" if o.endswith("+") else "") + o[0]
    t = Tape(m, q, a, b, h1, h2, "" if reg == "-" else _UNB.get(reg, reg), out)
    return exec_response(delta(t))


def local_pairs(m: str, a: str, b: str = "") -> list[tuple[str, str]]:
    """(prompt, response) for every step machine ``m`` itself takes on (a, b) in local view
    (callees run by the oracle; their own steps are not included)."""
    from mathwright.machines.composers import COMPOSERS, call_args, comp_apply, comp_start, run_machine
    from mathwright.machines.executors import apply, start

    pairs = []
    if m not in COMPOSERS:
        t = start(m, a, b)
        while t.q != HALT:
            c = delta(t)
            pairs.append((exec_prompt(t), exec_response(c)))
            t = apply(t, c)
        return pairs
    cp = comp_start(m, a, b)
    while cp.q != HALT:
        call = comp_call(cp)
        pairs.append((call_prompt(cp), call_response(call)))
        R = run_machine(call.machine, *call_args(cp, call)) if call is not None else None
        sets, nxt = comp_trans(cp, R)
        pairs.append((trans_prompt(cp, R), trans_response(sets, nxt)))
        cp = comp_apply(cp, sets, nxt, R)
    return pairs


def _check_record(rec: dict) -> str | None:
    try:
        want = oracle_local(rec["instruction"])
    except (ValueError, KeyError, IndexError) as e:
        return f"prompt not understood by the oracle: {e}"
    return None if want == rec["output"] else f"response {rec['output']!r} != oracle {want!r}"


def _parse(text: str) -> str:
    """A local-view response's command tokens (the format has no answer text of its own)."""
    return text.strip()


from types import SimpleNamespace  # noqa: E402

FORMAT = SimpleNamespace(name="caef-local", render=local_pairs, parse=_parse, check=_check_record, step=oracle_local)
