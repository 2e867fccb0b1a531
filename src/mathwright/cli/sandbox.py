"""``mathwright sandbox run FILE.py`` (one program under the sandbox's limits) and ``mathwright serve MODEL``
(any mathwright model over an OpenAI-compatible HTTP API)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from mathwright.cli.apps import app, fail, generate_app, sandbox_app  # noqa: F401


@sandbox_app.command("run")
def sandbox_run_cmd(
    file: Path = typer.Argument(..., help="the Python program to run"),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="wall-clock seconds (default: Limits.wall_seconds)"),
    isolation: Optional[str] = typer.Option(None, "--isolation", help="auto | bwrap | unshare | none (default: auto)"),
) -> None:
    """Run one program in the sandbox and print one JSON object (status, stdout, error, answer, seconds,
    limit). Exits 0 whenever the program was contained, whatever it did.

    Example: ``mathwright sandbox run solution.py --timeout 5``
    """
    from mathwright.io import check_input_file
    from mathwright.sandbox import Limits, SandboxError, SandboxPool
    from mathwright.sandbox._launch import ISOLATIONS

    check_input_file(file)
    try:
        code = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        fail(f"{file}: cannot read: {e}")
    if timeout is not None and timeout <= 0:
        fail(f"--timeout must be positive, got {timeout}")
    if isolation is not None and isolation not in ISOLATIONS:
        fail(f"unknown --isolation {isolation!r}; valid: {', '.join(ISOLATIONS)}")
    limits = Limits() if timeout is None else Limits(wall_seconds=timeout)
    try:
        with SandboxPool(limits, workers=1, isolation=isolation) as pool:
            result = pool.run(code)
            out = {**result.to_dict(), "isolation": pool.isolation}
    except (SandboxError, ValueError, RuntimeError) as e:
        fail(f"sandbox: {e}", code=1)
    typer.echo(json.dumps(out, ensure_ascii=False))


@app.command("serve")
def serve_cmd(
    model: str = typer.Argument(..., help="a model spec for mathwright.models.load_model (path, hub id, .gguf, ...)"),
    port: int = typer.Option(8000, "--port", help="TCP port (1-65535)"),
    host: str = typer.Option("127.0.0.1", "--host", help="interface to listen on (loopback by default)"),
    name: Optional[str] = typer.Option(None, "--name", help="model name reported by /v1/models (default: the spec)"),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", help="cap on a request's max_tokens (default: the model's context)"),
    context: Optional[int] = typer.Option(None, "--context", help="context length in tokens (default: the model's own; lower it to bound memory)"),
    max_queue: int = typer.Option(128, "--max-queue", help="requests waiting or running before new ones get HTTP 503"),
    max_body_bytes: int = typer.Option(4 << 20, "--max-body-bytes", help="largest request body (HTTP 413 above)"),
    max_batch_tokens: Optional[int] = typer.Option(None, "--max-batch-tokens", help="KV-cache tokens running requests may fill together; more wait (default: 4 x context)"),
) -> None:
    """Serve a model over an OpenAI-compatible API: /v1/completions, /v1/chat/completions (both with
    ``stream``), /v1/models. Limits and behaviour on disconnect or a full queue: docs/serve.md.

    Example: ``mathwright serve ~/.cache/mathwright/gemma-3-270m --port 8000``, then
    ``mathwright eval gsm8k --model http://127.0.0.1:8000/v1 ...``
    """
    import socket

    import uvicorn

    from mathwright.models import load_model
    from mathwright.models.serve import ServeLimits, build_app

    if not 1 <= port <= 65535:
        fail(f"--port must be between 1 and 65535, got {port}")
    for flag, value in (("--max-tokens", max_tokens), ("--context", context), ("--max-queue", max_queue),
                        ("--max-body-bytes", max_body_bytes), ("--max-batch-tokens", max_batch_tokens)):
        if value is not None and value < 1:
            fail(f"{flag} must be at least 1, got {value}")
    try:  # a clear message now rather than uvicorn's log line after the model has loaded
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
    except OSError as e:
        fail(f"cannot listen on {host}:{port}: {e.strerror or e}")
    try:
        m = load_model(model)
    except (OSError, ValueError, ImportError) as e:  # ImportError: an optional engine is not installed
        fail(f"cannot load model {model!r}: {e}")
    limits = ServeLimits(max_tokens=max_tokens, context=context, max_queue=max_queue, max_body_bytes=max_body_bytes,
                         max_batch_tokens=max_batch_tokens)
    uvicorn.run(build_app(m, name or model, limits), host=host, port=port, log_level="info")
