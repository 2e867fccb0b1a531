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


class InputError(ValueError):
    """Bad user input (a file, a name, a value): the message names the input and what is wrong with it.
    Library code raises it; the CLI's entry point prints it as one ``error:`` line and exits 2."""


class DataError(InputError):
    """Bad input data: the message names the file, the line and the problem."""

    def __init__(self, path: str | os.PathLike, line: int | None, problem: str) -> None:
        self.path, self.line, self.problem = str(path), line, problem
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[TextIO]:
    """Write to a temp file beside ``path``, fsync, then rename over it; on error the temp file is removed
    and any existing ``path`` is untouched."""
    path = check_output_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise DataError(path, None, f"cannot write: {e.strerror}") from None
    try:
        # mkstemp creates 0600; give the file the mode open() would (an existing file keeps its own)
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as f:
            yield f  # type: ignore[misc]
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def check_output_path(path: str | os.PathLike, directory: bool = False) -> Path:
    """``path`` as a Path if a file (``directory``: a directory) can be created or replaced there; else a
    DataError naming it: it is a directory (a file), a parent is a file, or the nearest existing parent is
    not writable. Commands call it before any work, so bad output paths fail before anything is computed."""
    path = Path(path)
    if path.exists() and path.is_dir() != directory:
        raise DataError(path, None, "is a directory, expected a file path" if not directory
                        else "is a file, expected a directory")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise DataError(path, None, f"cannot write: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK) or not os.access(path, os.W_OK) and path.exists():
        raise DataError(path, None, f"cannot write: {parent if not path.exists() else path} is not writable")
    return path


def _umask() -> int:
    """The process umask, read without changing it where /proc allows (os.umask can only set it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Atomically write ``obj`` as pretty JSON."""
    with atomic_write(path) as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def read_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, record)``; blank lines are skipped; bad JSON or a non-object raises DataError."""
    for i, line in read_lines(path):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(path, i, f"not JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(rec, dict):
            raise DataError(path, i, f"expected a JSON object, got {type(rec).__name__}")
        yield i, rec


def check_input_file(path: str | os.PathLike) -> Path:
    """``path`` as a Path if it is a readable file; else DataError naming it (missing, a directory)."""
    path = Path(path)
    if path.is_dir():
        raise DataError(path, None, "is a directory, expected a file")
    if not path.exists():
        raise DataError(path, None, "no such file")
    return path


def read_lines(path: str | os.PathLike) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` of a UTF-8 text file; missing, a directory or not UTF-8 raise DataError."""
    check_input_file(path)
    with open(path, "rb") as f:  # decoded line by line, so an undecodable byte is reported on its own line
        for i, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise DataError(path, i, f"not UTF-8 text ({e.reason} at byte {e.start + 1})") from None
            yield i, line[:-2] + "\n" if line.endswith("\r\n") else line


def read_records(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """Read JSON Lines, or one JSON array (line numbers are then 1-based record indices)."""
    path = check_input_file(path)
    with open(path, encoding="utf-8", errors="replace") as f:
        head = f.read(4096).lstrip()
    if head.startswith("["):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as e:
            raise DataError(path, None, f"not UTF-8 text ({e.reason})") from None
        except json.JSONDecodeError as e:
            raise DataError(path, e.lineno, f"not JSON ({e.msg})") from None
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
        self._f: TextIO | None = None  # opened on the first append: a run that fails first leaves no empty log

    def __contains__(self, k: Any) -> bool:
        return k in self.records

    def append(self, rec: dict) -> None:
        k = rec.get(self.key)
        if k in self.records:
            return
        if self._f is None:
            self._f = open(self.path, "a", encoding="utf-8")
        self._f.write(dumps(rec) + "\n")
        self._f.flush()
        self.records[k] = rec

    def extend(self, recs: Iterable[dict]) -> None:
        for r in recs:
            self.append(r)

    def close(self) -> None:
        if self._f is not None:
            self._f.close()

    def __enter__(self) -> "RecordLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
