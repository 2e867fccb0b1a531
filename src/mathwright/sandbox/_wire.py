"""Framing shared by the evaluating process and the sandbox: 4-byte big-endian length + UTF-8 JSON.

JSON (never pickle) on purpose: the evaluating process decodes what a possibly hostile worker sends,
and decoding JSON cannot run code. Reads are capped so a worker cannot make the parent allocate a lot.
"""
from __future__ import annotations

import json
import os
import socket
import struct
import time
from typing import Any

_HEADER = struct.Struct(">I")


class WireError(Exception):
    """The peer sent something that is not a well-formed, small enough message."""


def frame(obj: Any) -> bytes:
    """One message as bytes (header + JSON); several frames may be sent back to back (pipelining)."""
    data = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    return _HEADER.pack(len(data)) + data


def send_msg(sock: socket.socket, obj: Any) -> None:
    sock.sendall(frame(obj))


def _recv_exact(sock: socket.socket, n: int, deadline: float | None) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:  # one deadline for the whole message: a peer cannot stall by trickling bytes
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("deadline passed")
            sock.settimeout(left)
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            return None  # EOF: the peer is gone
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv_msg(sock: socket.socket, max_bytes: int, deadline: float | None = None) -> Any:
    """Next message, or None at EOF. Raises WireError if it is larger than ``max_bytes`` or not JSON, and
    ``socket.timeout`` if it has not fully arrived by ``deadline`` (``time.monotonic()``)."""
    head = _recv_exact(sock, _HEADER.size, deadline)
    if head is None:
        return None
    (n,) = _HEADER.unpack(head)
    if n > max_bytes:
        raise WireError(f"message of {n} bytes exceeds the {max_bytes}-byte cap")
    body = _recv_exact(sock, n, deadline)
    if body is None:
        return None
    try:
        return json.loads(body.decode("utf-8", "surrogatepass"))
    except (UnicodeDecodeError, ValueError) as e:
        raise WireError(f"malformed message: {e}") from None


def send_ctl(sock: socket.socket, obj: Any, fds: tuple[int, ...] = ()) -> None:
    """One message on a SOCK_SEQPACKET control socket, optionally carrying file descriptors."""
    data = json.dumps(obj).encode()
    if fds:
        socket.send_fds(sock, [data], list(fds))
    else:
        sock.send(data)


def recv_ctl(sock: socket.socket, max_fds: int = 0) -> tuple[Any, list[int]]:
    """(message, fds) from a SOCK_SEQPACKET control socket; (None, []) at EOF."""
    data, fds, _flags, _addr = socket.recv_fds(sock, 65536, max(max_fds, 1))
    if not data:
        for fd in fds:
            os.close(fd)
        return None, []
    return json.loads(data), list(fds)
