"""The data side of SFT: training records as prompt/completion pairs, and the format the data is in.

A dataset written by ``mathwright generate`` has a ``.meta.json`` sidecar naming its format; a recipe without
``format:`` takes it from there (:func:`data_format`), so the trained model directory can record it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

from mathwright.io import DataError, read_jsonl


def load_records(paths: list[str], prompt: str, completion: str, limit: int | None = None) -> dict[str, list[str]]:
    """``{"prompt": [...], "completion": [...]}`` from JSONL files; a record missing a template field
    raises DataError naming the file, line and field.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "g.jsonl")
    >>> _ = open(p, "w").write('{"instruction": "2+3", "output": "2 + 3 = 5"}\\n')
    >>> load_records([p], "{instruction}\\nAnswer: ", "{output}")
    {'prompt': ['2+3\\nAnswer: '], 'completion': ['2 + 3 = 5']}
    """
    out: dict[str, list[str]] = {"prompt": [], "completion": []}
    for path in paths:
        for line, rec in read_jsonl(path):
            try:
                out["prompt"].append(prompt.format(**rec))
                out["completion"].append(completion.format(**rec))
            except KeyError as e:
                raise DataError(path, line, f"record has no field {e.args[0]!r} needed by the prompt/completion "
                                            f"template (fields: {', '.join(rec)})") from None
            if limit is not None and len(out["prompt"]) >= limit:
                return out
    if not out["prompt"]:
        raise DataError(paths[0] if paths else "data", None, "no training records")
    return out


def count_too_long(tok: Any, prompts: list[str], completions: list[str], max_length: int) -> tuple[int, int]:
    """``(records longer than max_length tokens, longest length)``, counting prompt + completion + the EOS TRL
    appends: TRL keeps only the first ``max_length`` tokens of such a record, so it trains on a cut answer."""
    n = longest = 0
    for i in range(0, len(prompts), 2048):
        ids = tok([p + c for p, c in zip(prompts[i:i + 2048], completions[i:i + 2048])])["input_ids"]
        for x in ids:
            length = len(x) + 1
            n += length > max_length
            longest = max(longest, length)
    return n, longest


def meta_for(path: str | Path) -> Optional[dict]:
    """The generator metadata of a data file, or None: ``X.jsonl.meta.json`` (``write_dataset``), ``X.meta.json``
    (mathinstruct), or for a split ``X.train.jsonl`` the ``X.jsonl.meta.json`` that lists it among its files.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> _ = open(os.path.join(d, "g.jsonl.meta.json"), "w").write('{"format": "goat", "files": {"train": {"path": "g.train.jsonl"}}}')
    >>> meta_for(os.path.join(d, "g.train.jsonl"))["format"], meta_for(os.path.join(d, "h.train.jsonl"))
    ('goat', None)
    """
    p = Path(path)
    stem, _, split = p.stem.rpartition(".")
    candidates = [(Path(f"{p}.meta.json"), False), (p.with_suffix(".meta.json"), False)]
    if stem and split:
        candidates.append((p.with_name(f"{stem}{p.suffix}.meta.json"), True))
    for meta_path, must_list in candidates:
        if not meta_path.is_file():
            continue
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(meta, dict):
            continue
        files = meta.get("files") if isinstance(meta.get("files"), dict) else {}
        if must_list and not any(isinstance(f, dict) and f.get("path") == p.name for f in files.values()):
            continue
        return meta
    return None


def data_format(paths: list[str]) -> Optional[str]:
    """The format every file of ``paths`` names in its metadata (``format``, else ``config.format``), or None
    when one names none or they disagree (a mix of formats records no single one)."""
    found: set[Any] = set()
    for path in paths:
        meta = meta_for(path) or {}
        config = meta.get("config") if isinstance(meta.get("config"), dict) else {}
        found.add(meta.get("format") or config.get("format"))
    name = found.pop() if len(found) == 1 else None
    return name if isinstance(name, str) and name else None
