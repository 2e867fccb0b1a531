"""Issue 20: one operator table (arith/problem.py OPERATORS); no module outside arith/ defines its own."""
from __future__ import annotations

import ast
from pathlib import Path

from mathwright.arith.problem import LABELS, OP_OF_SYMBOL, OPERATORS, OPS, SYMBOLS, parse_expr

ROOT = Path(__file__).resolve().parents[1]
OP_NAMES = set(OPS)
# every spelling any format uses for an op
SPELLINGS = {s for o in OPERATORS.values() for s in (o.symbol, o.label, o.caef, *o.aliases)}
MACHINES = {o.machine for o in OPERATORS.values()}


def test_table_round_trips():
    assert OPS == ("add", "sub", "mul", "div", "eq", "lt", "gt")
    for name, o in OPERATORS.items():
        assert o.name == name
        assert OP_OF_SYMBOL[o.symbol] == name and SYMBOLS[name] == o.symbol
        for a in o.aliases:
            assert OP_OF_SYMBOL[a] == name
        assert parse_expr(f"12 {o.symbol} 5").op == name
    assert len(set(SYMBOLS.values())) == len(OPS)  # symbols are unambiguous
    assert LABELS["mul"] == "x" and OPERATORS["div"].caef == "//"


def _const(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_op_table(node: ast.Dict) -> bool:
    """A dict literal mapping >= 2 op names to spellings/machines (or spellings to op names/machines)."""
    pairs = [(_const(k), _const(v)) for k, v in zip(node.keys, node.values) if k is not None]
    hits = sum(1 for k, v in pairs if k is not None and v is not None and (
        (k in OP_NAMES and (v in SPELLINGS or v in MACHINES))
        or (k in SPELLINGS and (v in OP_NAMES or v in MACHINES))))
    return hits >= 2


def test_no_copies_outside_arith():
    bad = []
    for tree_root in (ROOT / "src" / "mathwright", ROOT / "bench"):
        for path in sorted(tree_root.rglob("*.py")):
            if "arith" in path.relative_to(tree_root).parts[:1]:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Dict) and _is_op_table(node):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bad, f"op -> symbol tables defined outside arith/problem.py: {bad}"
