"""Structure (issue 20): imports point only down the pipeline, and no module imports itself back.

Every ``import`` / ``from ... import`` under ``src/mathwright`` counts, at module level or inside a function
(a function-local import is still a dependency; it only runs later). A module belongs to the layer named by
its top-level subpackage; the layers, lowest first::

    base (sandbox, io, registry, the package root)  ->  arith  ->  machines  ->  formats  ->  data
        ->  models  ->  train | solve  ->  eval  ->  cli  ->  entry (``python -m mathwright``)

A module may import its own layer or any layer of a lower rank. ``train`` and ``solve`` share a rank and
are siblings: neither imports the other. Root modules get a rank each (:data:`ROOT_LAYERS`):
``mathwright/__init__.py`` (the version, the int-digit limit), ``io.py`` (files and record logs) and
``registry.py`` (the generic registry) sit in ``base`` with ``sandbox/``: anything may import them and
they import nothing above; ``mathwright/__main__.py`` is the ``python -m mathwright`` entry point, above
``cli``, and nothing imports it.

Edges: ``from P import name`` is an edge to the module ``P.name`` when that is a module, else to ``P``;
``import P.Q`` is an edge to ``P.Q``. Relative imports are resolved. The implicit import of a parent
package's ``__init__`` is not an edge (every ``mathwright.cli.x`` would otherwise "import" ``mathwright.cli``).
Besides the order, the module graph must be acyclic: a cycle, even between two modules of one layer,
fails. ``bench/`` scripts drive the library, never the CLI: none may import ``mathwright.cli``, nor run the
CLI in a child process (the ``mathwright`` console script, ``python -m mathwright``, or ``python -c`` code that
names ``mathwright.cli``); a child ``python -c`` that imports a library job is fine.
"""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
PACKAGE = "mathwright"

# layer -> rank; the same rank for two layers makes them siblings (neither may import the other)
RANKS: dict[str, int] = {
    "base": 0, "arith": 1, "machines": 2, "formats": 3, "data": 4, "models": 5, "train": 6, "solve": 6,
    "eval": 7, "cli": 8, "entry": 9,
}
BASE_PACKAGES = ("sandbox",)  # subpackages that sit in the base layer
ROOT_LAYERS: dict[str, str] = {  # modules directly under mathwright/ -> layer
    "mathwright": "base", "mathwright.io": "base", "mathwright.registry": "base", "mathwright.__main__": "entry",
}


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, module: str, known: set[str]) -> list[tuple[str, int]]:
    """``(imported module, line)`` for every import of the package in the file, function-local ones included."""
    is_pkg = path.name == "__init__.py"
    package = module if is_pkg else module.rpartition(".")[0]
    out: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names if a.name.split(".")[0] == PACKAGE]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != PACKAGE:
                continue
            subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
            if len(subs) < len(node.names):  # some names are attributes of ``target`` itself
                out.append((target, node.lineno))
            out += [(s, node.lineno) for s in subs]
    return out


def collect(src: Path) -> dict[str, list[tuple[str, int]]]:
    """The import graph of the package under ``src``: module -> [(imported module, line)]."""
    files = {module_name(p, src): p for p in sorted((src / PACKAGE).rglob("*.py"))}
    known = set(files)
    return {m: [(t, ln) for t, ln in imports(p, m, known) if t != m] for m, p in files.items()}


def layer_of(module: str) -> str:
    if module in ROOT_LAYERS:
        return ROOT_LAYERS[module]
    top = module.split(".")[1]
    if top in BASE_PACKAGES:
        return "base"
    if top not in RANKS:
        raise AssertionError(f"{module}: no layer for {top!r}; give it a rank in tests/test_layers.py")
    return top


def upward(graph: dict[str, list[tuple[str, int]]]) -> list[str]:
    """Every import of a layer that is not lower than the importer's own (its own layer is fine)."""
    bad = []
    for mod, edges in graph.items():
        src_layer = layer_of(mod)
        for target, line in edges:
            dst_layer = layer_of(target)
            if dst_layer != src_layer and RANKS[dst_layer] >= RANKS[src_layer]:
                kind = "sibling" if RANKS[dst_layer] == RANKS[src_layer] else "up"
                bad.append(f"{mod}:{line} imports {target} ({src_layer} -> {dst_layer}: {kind})")
    return bad


def cycles(graph: dict[str, list[tuple[str, int]]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # the graph is small (~120 modules): recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w, _ in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return sorted(found)


def cli_imports(scripts: Path) -> list[str]:
    """Every import of ``mathwright.cli`` (or a module under it) in the scripts under ``scripts``."""
    bad = []
    for p in sorted(scripts.rglob("*.py")):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"), str(p))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            if any(n == f"{PACKAGE}.cli" or n.startswith(f"{PACKAGE}.cli.") for n in names):
                bad.append(f"{p.relative_to(scripts.parent)}:{node.lineno}")
    return bad


def _docstrings(tree: ast.AST) -> set[int]:
    """``id`` of every docstring node (module, class, function): prose, not code."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                out.add(id(first.value))
    return out


def _leading_text(node: ast.AST) -> str | None:
    """The text a string literal (or an f-string, up to its first placeholder) starts with."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)
    return None


def _is_console_script(text: str | None) -> bool:
    return text is not None and (text.strip() == PACKAGE or text.lstrip().startswith(PACKAGE + " "))


def cli_invocations(scripts: Path) -> list[str]:
    """Every place a script under ``scripts`` runs the CLI in a child process: a command list or tuple that starts
    with the ``mathwright`` console script or holds ``-m mathwright``, a shell command string handed to
    ``subprocess``/``os.system``/``os.popen`` that starts with ``mathwright``, or any string (code for
    ``python -c``) naming ``mathwright.cli`` or ``mathwright.__main__``; docstrings are prose and do not count."""
    bad = []
    for p in sorted(scripts.rglob("*.py")):
        tree = ast.parse(p.read_text(encoding="utf-8"), str(p))
        docs = _docstrings(tree)
        where = f"{p.relative_to(scripts.parent)}"
        for node in ast.walk(tree):
            if isinstance(node, (ast.List, ast.Tuple)) and node.elts:
                texts = [_leading_text(e) for e in node.elts]
                if _is_console_script(texts[0]) or any(
                        a == "-m" and b == PACKAGE for a, b in zip(texts, texts[1:])):
                    bad.append(f"{where}:{node.lineno}: runs the CLI")
            elif isinstance(node, ast.Call) and node.args:
                f = node.func
                owner = f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else None
                name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
                if (owner == "subprocess" or (owner == "os" and name in ("system", "popen"))) \
                        and _is_console_script(_leading_text(node.args[0])):
                    bad.append(f"{where}:{node.lineno}: runs the CLI (shell command)")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                if f"{PACKAGE}.cli" in node.value or f"{PACKAGE}.__main__" in node.value:
                    bad.append(f"{where}:{node.lineno}: names {PACKAGE}.cli / {PACKAGE}.__main__ in code")
    return sorted(set(bad))


# ------------------------------------------------------------------------------------------------ the checks


def test_every_module_has_a_layer() -> None:
    graph = collect(SRC)
    assert len(graph) > 50
    for mod in graph:
        layer_of(mod)


def test_imports_point_down_the_pipeline() -> None:
    bad = upward(collect(SRC))
    assert not bad, "imports running up the pipeline:\n" + "\n".join(bad)


def test_no_import_cycles() -> None:
    found = cycles(collect(SRC))
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_bench_never_imports_the_cli() -> None:
    bad = cli_imports(REPO / "bench")
    assert not bad, "bench/ imports mathwright.cli (import the library instead):\n" + "\n".join(bad)


def test_bench_never_runs_the_cli_in_a_child() -> None:
    bad = cli_invocations(REPO / "bench")
    assert not bad, ("bench/ runs the CLI in a child process (call the library job, or a `python -c` that imports "
                     "it):\n" + "\n".join(bad))


def test_the_cli_invocation_checker_finds_them(tmp_path: Path) -> None:
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "ok.py").write_text(
        '"""Runs ``mathwright generate goat``; see mathwright.cli.goat (a docstring: prose)."""\n'
        "import subprocess, sys\n"
        "subprocess.run([sys.executable, '-c', 'from mathwright.data.goat import run'], check=True)\n"
        "subprocess.run([sys.executable, '-m', 'mathwright.train', 'configs/x.yaml'])\n"
        "body = f'`mathwright check` re-verified the file in {1.0} s'\n"
        "cmd = ['mathwright-data', 'x']\n")
    (bench / "bad.py").write_text(
        "import os, subprocess, sys\n"
        "subprocess.run([sys.executable, '-c', 'from mathwright.cli import main; main()', 'train'])\n"
        "subprocess.run(['mathwright', 'generate', 'goat', '--n', '10'], check=True)\n"
        "cmd = (sys.executable, '-m', 'mathwright', 'check', 'x.jsonl')\n"
        "os.system(f'mathwright generate goat --n {10}')\n"
        "subprocess.check_call('mathwright check x.jsonl', shell=True)\n"
        "code = 'import runpy; runpy.run_module(\"mathwright.__main__\")'\n")
    assert cli_invocations(bench) == [
        "bench/bad.py:2: names mathwright.cli / mathwright.__main__ in code",
        "bench/bad.py:3: runs the CLI",
        "bench/bad.py:4: runs the CLI",
        "bench/bad.py:5: runs the CLI (shell command)",
        "bench/bad.py:6: runs the CLI (shell command)",
        "bench/bad.py:7: names mathwright.cli / mathwright.__main__ in code",
    ]


def test_the_checker_finds_violations(tmp_path: Path) -> None:
    """The checks can fail: a synthetic package with an upward import (function-local, relative), a sibling
    import, a cycle inside one layer and a bench script importing the CLI."""
    pkg = tmp_path / "src" / PACKAGE
    files = {
        "__init__.py": "",
        "io.py": "",
        "arith/__init__.py": "",
        "arith/low.py": "def f():\n    from ..formats import fmt\n    return fmt\n",
        "formats/__init__.py": "",
        "formats/fmt.py": "from mathwright.formats.other import x\nfrom mathwright.io import *\n",
        "formats/other.py": "import mathwright.formats.fmt\nx = 1\n",
        "train/__init__.py": "",
        "train/t.py": "from mathwright.solve import s\n",
        "solve/__init__.py": "",
        "solve/s.py": "from mathwright import io\nfrom mathwright.arith.low import f\n",
    }
    for name, text in files.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(text)
    graph = collect(tmp_path / "src")
    assert ("mathwright.formats.fmt", 2) in graph["mathwright.arith.low"]
    assert graph["mathwright.solve.s"] == [("mathwright.io", 1), ("mathwright.arith.low", 2)]
    assert upward(graph) == [
        "mathwright.arith.low:2 imports mathwright.formats.fmt (arith -> formats: up)",
        "mathwright.train.t:1 imports mathwright.solve.s (train -> solve: sibling)",
    ]
    assert cycles(graph) == [["mathwright.formats.fmt", "mathwright.formats.other"]]
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "ok.py").write_text("import mathwright.client\nfrom mathwright.train import sft\n")
    (bench / "a.py").write_text("def main():\n    from mathwright.cli.train import load_train_config\n")
    (bench / "b.py").write_text("from mathwright import cli\n")
    assert cli_imports(bench) == ["bench/a.py:2", "bench/b.py:1"]
