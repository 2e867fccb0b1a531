"""The generic dataset writer every generator (goat, caef, word problems, mathinstruct) calls. The layout it
writes (shards and their seeds, split files and the split rule, size bounds) is :mod:`mathwright.data.shards`.

Contract of :func:`write_dataset`
---------------------------------
``write_dataset(make_shard, n, out, *, seed, workers=1, shard_size=10_000, splits=None, check=None,
encode=None, split_key="input", count_by="op", config=None, meta=None, shuffle=True, progress=None)``

- ``make_shard(shard: Shard) -> list[dict]`` returns exactly ``shard.count`` records for the global
  positions ``[shard.start, shard.start + shard.count)`` and draws randomness ONLY from ``shard.rng()``
  (seeded from ``(seed, shard.index)`` alone). Output is therefore byte-identical for any ``workers``.
  Workers are forked, so closures and lambdas are fine.
- ``check(record) -> None | str``: every record is checked before it is written; the first failure
  aborts the whole run with :class:`GenerationError` naming the shard, the record and the problem,
  and nothing is written at ``out``.
- Records are shuffled inside each shard (seeded) and shards are concatenated in index order. A
  generator whose shards are not already mixed should assign contents by global position (as
  ``arith/goat_mix.py`` does with one seeded permutation of bucket labels).
- ``out`` ending in ``.jsonl`` gives JSON Lines; ``.parquet`` gives Parquet that
  ``datasets.load_dataset("parquet", data_files=...)`` reads.
- ``splits={"train": 0.98, "valid": 0.01, "test": 0.01}`` writes ``<stem>.<split><suffix>`` beside
  ``out`` (``goat.jsonl`` -> ``goat.train.jsonl`` ...). A record's split is a hash (CRC-32) of its
  ``split_key`` field (the canonical ``input``), so identical problems always land in the same split:
  splits never share a problem, for any seed, and the split sizes match the fractions only approximately.
- Atomic and resumable: shards are written (each atomically) into ``.<out name>.partial/`` beside
  ``out``; a killed run rerun with the same arguments reuses the finished shards and ends with the
  identical file. Finished files are renamed into place, so ``out`` is never half-written. Every
  argument is in the partial directory's fingerprint, so leftovers of a different job are discarded,
  never mixed in; ``fresh=True`` (``--fresh``) discards them anyway; a resume is announced on stderr.
- Bounded before anything is built: the shard plan (``n / shard_size`` <= 1,000,000 shards) and the
  pool (``workers`` <= 4 per CPU); a generator bounds its own tables (sample lazily, never a list whose
  size is a product of user inputs).
- A sidecar ``<out>.meta.json`` records the generator config (a frozen dataclass), seed, per-shard
  seeds, counts per split and per ``count_by`` value, and the mathwright version.

>>> import tempfile, os, json
>>> d = tempfile.mkdtemp(); out = os.path.join(d, "sq.jsonl")
>>> def squares(shard):
...     rng = shard.rng()
...     return [{"input": str(k), "output": str(k * k), "op": "sq"}
...             for k in (rng.randrange(10**6) for _ in range(shard.count))]
>>> meta = write_dataset(squares, 25, out, seed=1, shard_size=10, progress=False,
...                      check=lambda r: None if int(r["output"]) == int(r["input"]) ** 2 else "wrong")
>>> sum(1 for _ in open(out)), meta["files"]["all"]["records"], len(meta["shards"])
(25, 25, 3)
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing as mp
import os
import random
import shutil
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from mathwright.data.shards import UNSPLIT, Shard, check_out_path, check_sizes, plan_shards, split_of, split_paths
from mathwright.io import DataError, atomic_write, dumps


class GenerationError(RuntimeError):
    """A record failed its check (or a generator broke its contract); nothing was written at ``out``."""


# Set before forking the pool so workers inherit the job (closures need no pickling).
_JOB: dict[str, Any] = {}


def _run_shard(shard: Shard) -> dict[str, dict[str, int]]:
    """Generate, check, shuffle, split and write one shard (each file atomically); return its counts."""
    job = _JOB
    recs = job["make_shard"](shard)
    if len(recs) != shard.count:
        raise GenerationError(f"shard {shard.index}: make_shard returned {len(recs)} records, expected {shard.count}")
    check = job["check"]
    if check is not None:
        for i, problem in enumerate(map(check, recs)):  # map: the loop stays in C until a failure
            if problem:
                raise GenerationError(f"shard {shard.index} (seed {shard.seed}), record {i}: check failed: "
                                      f"{problem}\n  record: {json.dumps(recs[i], ensure_ascii=False)}")
    if job["shuffle"]:
        random.Random(shard.seed ^ 0x5EED).shuffle(recs)
    encode, key, count_by, cum = job["encode"], job["split_key"], job["count_by"], job["cum"]
    groups: dict[str, list[dict]] = {name: [] for name in job["names"]}
    if cum:
        for rec in recs:
            groups[split_of(str(rec[key]), cum)].append(rec)
    else:
        groups[UNSPLIT] = recs
    lines = {name: "".join(map(encode, rs)) for name, rs in groups.items()}
    counts: dict[str, dict[str, int]] = {
        name: dict(Counter(str(r.get(count_by, "")) for r in rs)) if count_by else {"": len(rs)}
        for name, rs in groups.items()}
    part: Path = job["part"]
    for name, ls in lines.items():
        tmp = part / f"shard-{shard.index:06d}.{name}.jsonl.{os.getpid()}.tmp"  # pid: never shared with a stray worker
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(ls)
        os.replace(tmp, part / f"shard-{shard.index:06d}.{name}.jsonl")
    # The marker is written last: a shard is finished iff its marker exists.
    marker = part / f"shard-{shard.index:06d}.done.json"
    with open(f"{marker}.{os.getpid()}.tmp", "w") as f:
        json.dump(counts, f)
    os.replace(f"{marker}.{os.getpid()}.tmp", marker)
    return counts


def _die_with_parent() -> None:
    """Pool initializer: on Linux, have the kernel kill this worker when the parent dies (a killed run
    must not leave workers writing into the partial directory while it is rerun)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _default_encode(rec: dict) -> str:
    return dumps(rec) + "\n"


def _fingerprint(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _config_dict(config: Any) -> Any:
    if config is None:
        return None
    if dataclasses.is_dataclass(config):
        return {"type": type(config).__qualname__, **dataclasses.asdict(config)}
    return config


_SYNC_EVERY = 64 << 20


def _append(src: Path, sink: Any, synced: dict[int, int]) -> None:
    """Append ``src`` to the unbuffered binary ``sink`` in the kernel (copy_file_range; a plain copy
    as fallback) and flush to disk every 64 MB (``synced`` holds the last flushed position per fd),
    so the disk writes overlap the workers' compute and the final fsync has little left to do."""
    with open(src, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        done = 0
        try:
            while done < size:
                k = os.copy_file_range(f.fileno(), sink.fileno(), size - done)
                if k == 0:
                    raise OSError("copy_file_range made no progress")
                done += k
        except (AttributeError, OSError):
            f.seek(done)
            shutil.copyfileobj(f, sink, 1 << 22)
    pos = sink.tell()
    if pos - synced.get(sink.fileno(), 0) >= _SYNC_EVERY:
        os.fdatasync(sink.fileno())
        synced[sink.fileno()] = pos


def _to_parquet(jsonl: Path, dest_tmp: Path) -> None:
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    if jsonl.stat().st_size == 0:  # pyarrow cannot infer a schema from nothing
        import pyarrow as pa

        table = pa.table({})
    else:
        table = pj.read_json(jsonl, read_options=pj.ReadOptions(block_size=1 << 26))
    pq.write_table(table, dest_tmp)


def write_dataset(
    make_shard: Callable[[Shard], list[dict]],
    n: int,
    out: str | os.PathLike,
    *,
    seed: int,
    workers: int = 1,
    shard_size: int = 10_000,
    splits: dict[str, float] | None = None,
    check: Callable[[dict], str | None] | None = None,
    encode: Callable[[dict], str] | None = None,
    split_key: str = "input",
    count_by: str | None = "op",
    config: Any = None,
    meta: dict | None = None,
    shuffle: bool = True,
    progress: bool | None = None,
    fresh: bool = False,
) -> dict:
    """Generate ``n`` records shard by shard and write them (see the module docstring); return the metadata.

    ``encode(record) -> str`` must return one JSON line ending in ``"\\n"`` (default: ``json.dumps``);
    a faster hand-written encoder is fine as long as it emits valid JSON. ``fresh`` discards the finished
    shards of an interrupted run instead of reusing them.
    """
    out = check_out_path(out)
    try:
        check_sizes(n, shard_size, workers)
    except ValueError as e:
        raise DataError(out, None, str(e)) from None
    names = list(splits) if splits else [UNSPLIT]
    paths = split_paths(out, splits)
    shards = plan_shards(n, seed, shard_size)
    cfg = _config_dict(config)
    from mathwright import __version__

    ident = {"n": n, "seed": seed, "shard_size": shard_size, "splits": splits, "split_key": split_key,
             "shuffle": shuffle, "config": cfg, "count_by": count_by, "version": __version__,
             "encode": getattr(encode, "__qualname__", None)}
    fp = _fingerprint(ident)
    part = out.with_name(f".{out.name}.partial")
    manifest = part / "manifest.json"
    if part.exists():
        try:
            same = json.loads(manifest.read_text())["fingerprint"] == fp
        except (OSError, ValueError, KeyError):
            same = False
        if not same or fresh:  # a different job's leftovers (every argument is in the fingerprint): start afresh
            shutil.rmtree(part)
    part.mkdir(parents=True, exist_ok=True)
    if not manifest.exists():
        with atomic_write(manifest) as f:
            json.dump({"fingerprint": fp, **ident}, f, default=str)

    counts: dict[int, dict[str, dict[str, int]]] = {}
    todo: list[Shard] = []
    for s in shards:
        marker = part / f"shard-{s.index:06d}.done.json"
        if marker.exists():
            counts[s.index] = json.loads(marker.read_text())
        else:
            todo.append(s)
    if counts:
        import sys

        print(f"resuming {out}: {len(counts)} of {len(shards)} shards already generated in {part}", file=sys.stderr)

    cum: list[tuple[float, str]] = []
    acc = 0.0
    for name, frac in (splits or {}).items():
        acc += frac
        cum.append((acc, name))
    _JOB.clear()
    _JOB.update(make_shard=make_shard, check=check, encode=encode or _default_encode, split_key=split_key,
                count_by=count_by, cum=cum, names=names, part=part, shuffle=shuffle)

    from tqdm import tqdm

    # Finished shards are appended to the final temp files in index order while workers keep
    # generating, so the concatenation overlaps the compute.
    finals = {name: part / f"final.{name}.jsonl.tmp" for name in names}
    sinks = {name: open(path, "wb", buffering=0) for name, path in finals.items()}
    synced: dict[int, int] = {}
    bar = tqdm(total=n, unit="rec", unit_scale=True, desc=f"generate {out.name}",
               disable=(None if progress is None else not progress))
    pool = None
    try:
        if workers > 1 and len(todo) > 1:
            pool = mp.get_context("fork").Pool(min(workers, len(todo)), initializer=_die_with_parent)
            results = pool.imap(_run_shard, todo)
        else:
            results = map(_run_shard, todo)
        for s in shards:
            if s.index not in counts:
                counts[s.index] = next(results)
            for name, sink in sinks.items():
                _append(part / f"shard-{s.index:06d}.{name}.jsonl", sink, synced)
            bar.update(s.count)
        for sink in sinks.values():
            os.fsync(sink.fileno())
    except GenerationError:
        shutil.rmtree(part, ignore_errors=True)  # deterministic failure: a rerun would fail the same way
        raise
    finally:
        for sink in sinks.values():
            sink.close()
        if pool is not None:
            pool.terminate()
            pool.join()
        bar.close()
        _JOB.clear()

    files: dict[str, dict] = {}
    for name in names:
        dest = paths[name]
        tmp = finals[name]
        if dest.suffix == ".parquet":
            tmp = part / f"final.{name}.parquet.tmp"
            _to_parquet(finals[name], tmp)
        by: dict[str, int] = {}
        for s in shards:
            for tag, c in counts[s.index][name].items():
                by[tag] = by.get(tag, 0) + c
        files[name] = {"path": dest.name, "records": sum(by.values()),
                       **({f"by_{count_by}": dict(sorted(by.items()))} if count_by else {})}
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, dest)

    info = {
        "mathwright_version": __version__,
        "n": n,
        "seed": seed,
        "config": cfg,
        "shard_size": shard_size,
        "shards": [{"index": s.index, "start": s.start, "count": s.count, "seed": s.seed} for s in shards],
        "splits": splits,
        "split_rule": f"crc32({split_key}) / 2**32 against cumulative fractions" if splits else None,
        "files": files,
        **(meta or {}),
    }
    with atomic_write(str(out) + ".meta.json") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    shutil.rmtree(part, ignore_errors=True)
    return info
