"""The registry of text formats (goat, caef, ...): each entry is a module-like object or
lazy ``"module:attr"`` string exposing ``render``, ``parse`` and ``check``.

Register a format where it is defined, or lazily here so importing this module stays cheap:

>>> "goat" in FORMATS
True
>>> FORMATS.get("goat").parse("Answer: 12 / 5 = 2 R 2")
'2 R 2'
"""
from __future__ import annotations

from typing import Any

from mathwright.registry import Registry

FORMATS: Registry[Any] = Registry("formats")

# Lazy entries: the module is imported on first ``get``. Other areas add theirs the same way.
FORMATS.add("goat", "mathwright.formats.goat:FORMAT")
FORMATS.add("pot", "mathwright.formats.pot:FORMAT")
FORMATS.add("gsm", "mathwright.formats.gsm:FORMAT")
FORMATS.add("reversed", "mathwright.formats.reversed:FORMAT")
FORMATS.add("scratchpad", "mathwright.formats.scratchpad:FORMAT")
FORMATS.add("padded", "mathwright.formats.padded:FORMAT")
FORMATS.add("padded8", "mathwright.formats.padded:FORMAT8")
FORMATS.add("aligned", "mathwright.formats.padded:ALIGNED")
FORMATS.add("aligned8", "mathwright.formats.padded:ALIGNED8")
FORMATS.add("aligned-scratch", "mathwright.formats.padded:ALIGNED_SCRATCH")
FORMATS.add("aligned-scratch6", "mathwright.formats.padded:ALIGNED_SCRATCH6")
FORMATS.add("caef", "mathwright.formats.caef:FORMAT")
FORMATS.add("caef-local", "mathwright.formats.local:FORMAT")
