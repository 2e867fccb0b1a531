"""Fingerprints of what a result depends on, so a resumed run never mixes stale and new inputs.

A long job (``train``, ``eval``) that finds earlier work in its output directory resumes only when the
inputs are the same: the settings that change the result, the data files' contents and the model
weights' contents. The fingerprint is a small JSON object stored as ``RUN/fingerprint.json``::

    {"kind": "eval arith", "config": {...}, "files": {"data/a.jsonl": "sha256:ab12...", ...}}

``files`` maps each input file to the sha256 of its full contents. Hashing a 500 MB weight file takes
about a second, so each digest is cached in ``RUN/.hash_cache.json`` keyed by the file's resolved path,
size and ``mtime_ns``: a file whose size or mtime changed is hashed again (content changes always
change one of them in practice), an unchanged one costs a ``stat``. Remote models (hub ids, servers)
are fingerprinted by their spec only.

>>> import tempfile, os
>>> d = tempfile.mkdtemp(); f = os.path.join(d, "a.jsonl"); _ = open(f, "w").write("x\\n")
>>> old = {"config": {"lr": 0.1}, "files": {f: file_sha256(f)}}
>>> _ = open(f, "w").write("y\\n")
>>> new = {"config": {"lr": 0.2}, "files": {f: file_sha256(f)}}
>>> [s.split(" (")[0] for s in differences(old, new)] == ["config lr changed", f"file {f} changed"]
True
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

from mathwright.io import DataError, RecordLog, write_json

FINGERPRINT = "fingerprint.json"
HASH_CACHE = ".hash_cache.json"
# Files of a model directory that decide its outputs (weights, shape, tokenizer, generation defaults).
MODEL_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth", ".json", ".model", ".txt", ".tiktoken")


def file_sha256(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> str:
    """``sha256:<hex>`` of the file's contents, cached in ``cache_dir/.hash_cache.json`` by (path, size, mtime_ns)."""
    p = Path(path)
    st = p.stat()
    key = f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    cache: dict[str, str] = {}
    cache_path = Path(cache_dir) / HASH_CACHE if cache_dir is not None else None
    if cache_path is not None and cache_path.is_file():
        try:
            cache = json.loads(cache_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cache = {}
        if key in cache:
            return cache[key]
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    digest = f"sha256:{h.hexdigest()}"
    if cache_path is not None:
        cache = {k: v for k, v in cache.items() if not k.startswith(f"{p.resolve()}|")}
        cache[key] = digest
        try:
            write_json(cache_path, cache)
        except OSError:
            pass  # a read-only run directory only loses the cache
    return digest


def files_digest(paths: Iterable[str | os.PathLike], cache_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """``{path: sha256}`` for each file (as named)."""
    return {str(p): file_sha256(p, cache_dir) for p in paths}


def model_files(spec: str) -> list[Path]:
    """The local files a model spec loads: a ``.gguf`` file, or a directory's weight/config/tokenizer
    files (top level only: HF model directories are flat). Empty for hub ids, servers and presets."""
    p = Path(spec)
    if p.is_file():
        return [p]
    if p.is_dir():
        return sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith(".")
                      and f.suffix in MODEL_SUFFIXES and f.name not in (FINGERPRINT, HASH_CACHE))
    return []


def model_digest(spec: str, cache_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """``{file: sha256}`` of a local model's files (see :func:`model_files`); ``{}`` for remote specs."""
    return files_digest(model_files(spec), cache_dir)


def _short(v: Any) -> str:
    if isinstance(v, str) and v.startswith("sha256:"):
        return v[7:13] + ".."
    text = json.dumps(v, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict) and d:
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: d}


def differences(old: dict, new: dict) -> list[str]:
    """Human-readable differences between two fingerprints (settings first, then files)."""
    out: list[str] = []
    oc, nc = _flatten(old.get("config") or {}), _flatten(new.get("config") or {})
    for k in sorted(set(oc) | set(nc)):
        if oc.get(k, "<unset>") != nc.get(k, "<unset>"):
            out.append(f"config {k} changed ({_short(oc.get(k))} -> {_short(nc.get(k))})")
    of, nf = old.get("files") or {}, new.get("files") or {}
    for k in sorted(set(of) | set(nf)):
        if k not in nf:
            out.append(f"file {k} no longer an input")
        elif k not in of:
            out.append(f"file {k} is a new input")
        elif of[k] != nf[k]:
            out.append(f"file {k} changed (sha256 {_short(of[k])} -> {_short(nf[k])})")
    return out


def check_resume(run_dir: str | os.PathLike, fingerprint: dict, *, has_work: bool, fresh_hint: str) -> None:
    """Refuse to resume ``run_dir`` when its stored fingerprint differs from ``fingerprint``.

    ``has_work``: the directory holds results a resume would reuse. Raises :class:`DataError` (exit 2 at
    the CLI) naming every difference, or the missing fingerprint of an older run; ``fresh_hint`` names
    the flag that starts over (``--fresh``, ``fresh=true``). Does not write anything.
    """
    path = Path(run_dir) / FINGERPRINT
    if not has_work:
        return
    if not path.is_file():
        raise DataError(run_dir, None, f"resume refused: it holds earlier results but no {FINGERPRINT} "
                                       f"(an older or foreign run), so its inputs cannot be checked; "
                                       f"use {fresh_hint} to start over")
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise DataError(path, None, f"unreadable fingerprint; use {fresh_hint} to start over") from None
    diff = differences(old, fingerprint)
    if diff:
        raise DataError(run_dir, None, f"resume refused: {'; '.join(diff)}; use {fresh_hint} to start over")


def save(run_dir: str | os.PathLike, fingerprint: dict) -> None:
    """Store ``fingerprint`` as ``run_dir/fingerprint.json`` (atomically, 0644)."""
    path = Path(run_dir) / FINGERPRINT
    write_json(path, fingerprint)
    os.chmod(path, 0o644)


def start_run(run_dir: str | os.PathLike, fingerprint: dict, *, has_work: bool, fresh: bool, fresh_hint: str,
              discard: Iterable[str | os.PathLike] = ()) -> bool:
    """Check or reset ``run_dir`` before a job writes into it; returns True when earlier work is resumed.

    ``fresh`` deletes the ``discard`` paths (the job's own outputs: files or directories) instead of
    checking; otherwise a mismatched fingerprint raises :class:`DataError` (see :func:`check_resume`).
    The new fingerprint is stored either way.
    """
    import shutil

    run_dir = Path(run_dir)
    if fresh:
        for p in discard:
            p = Path(p)
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            elif p.exists() or p.is_symlink():
                p.unlink()
        has_work = False
    else:
        check_resume(run_dir, fingerprint, has_work=has_work, fresh_hint=fresh_hint)
    run_dir.mkdir(parents=True, exist_ok=True)
    save(run_dir, fingerprint)
    return has_work


def start_eval_dir(out: Path, kind: str, config: dict, model: Any, fresh: bool, discard: Sequence[str]) -> bool:
    """Fingerprint an eval (settings + the model's files) and resume, refuse or reset ``out`` accordingly."""
    pred = out / "predictions.jsonl"
    files = model_digest(model, out) if isinstance(model, str) else {}
    fp = {"kind": kind, "config": config, "files": files}
    return start_run(out, fp, has_work=pred.is_file() and pred.stat().st_size > 0, fresh=fresh,
                     fresh_hint="--fresh", discard=[out / d for d in discard])


def announce_resume(log: RecordLog, ids: Sequence[str]) -> None:
    """Say on stderr how much of the eval an earlier run already wrote."""
    done = sum(1 for i in ids if i in log)
    if done:
        print(f"resuming {log.path.parent}: {done} of {len(ids)} predictions already written", file=sys.stderr)
