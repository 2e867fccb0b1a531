"""Files that are never left half-written, readers whose errors name the file and line, and
append-only record logs that resume after a kill without losing or duplicating records.

>>> import tempfile, os
>>> d = tempfile.mkdtemp(); path = os.path.join(d, "x.jsonl")
>>> with atomic_write(path) as f: _ = f.write('{"a": 1}\\n')
>>> [r for _, r in read_jsonl(path)]
[{'a': 1}]
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator, TextIO


class DataError(ValueError):
    """Bad input data: the message names the file, the line and the problem."""

    def __init__(self, path: str | os.PathLike, line: int | None, problem: str) -> None:
        self.path, self.line, self.problem = str(path), line, problem
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[TextIO]:
    """Write to a temp file beside ``path``, fsync, then rename over it; on error the temp file is removed
    and any existing ``path`` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as f:
            yield f  # type: ignore[misc]
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Atomically write ``obj`` as pretty JSON."""
    with atomic_write(path) as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def read_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, record)``; blank lines are skipped; bad JSON or a non-object raises DataError."""
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(path, i, f"invalid JSON ({e.msg} at column {e.colno})") from None
            if not isinstance(rec, dict):
                raise DataError(path, i, f"expected a JSON object, got {type(rec).__name__}")
            yield i, rec


def read_records(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """Read JSON Lines, or one JSON array (line numbers are then 1-based record indices)."""
    path = Path(path)
    if not path.exists():
        raise DataError(path, None, "no such file")
    with open(path, encoding="utf-8") as f:
        head = f.read(4096).lstrip()
    if head.startswith("["):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise DataError(path, e.lineno, f"invalid JSON ({e.msg})") from None
        for i, rec in enumerate(data, 1):
            if not isinstance(rec, dict):
                raise DataError(path, i, f"record {i}: expected a JSON object")
            yield i, rec
    else:
        yield from read_jsonl(path)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))  # built once: json.dumps with
# options builds a new encoder per call, which costs more than encoding a short record


def dumps(rec: dict) -> str:
    """One canonical JSON line (stable key order as given, UTF-8, no trailing spaces); byte-identical to
    ``json.dumps(rec, ensure_ascii=False, separators=(", ", ": "))``."""
    return _ENCODER.encode(rec)


class RecordLog:
    """An append-only JSONL log keyed by a field, for resumable jobs.

    On open it reads what a previous (possibly killed) run wrote, drops a torn last line, and
    remembers the keys done; ``append`` writes one line and flushes it, so a kill loses at most the
    record being written and a rerun neither loses nor duplicates records.
    """

    def __init__(self, path: str | os.PathLike, key: str = "id") -> None:
        self.path, self.key = Path(path), key
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.records: dict[Any, dict] = {}
        if self.path.exists():
            good: list[str] = []
            with open(self.path, encoding="utf-8") as f:
                for line in f:
                    if not line.endswith("\n"):
                        break  # torn write from a kill: drop it
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError:
                        break
                    if rec.get(key) in self.records:
                        continue
                    self.records[rec.get(key)] = rec
                    good.append(line)
            with atomic_write(self.path) as f:
                f.writelines(good)
        self._f = open(self.path, "a", encoding="utf-8")

    def __contains__(self, k: Any) -> bool:
        return k in self.records

    def append(self, rec: dict) -> None:
        k = rec.get(self.key)
        if k in self.records:
            return
        self._f.write(dumps(rec) + "\n")
        self._f.flush()
        self.records[k] = rec

    def extend(self, recs: Iterable[dict]) -> None:
        for r in recs:
            self.append(r)

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> "RecordLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
