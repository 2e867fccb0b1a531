"""One generic registry (in the style of lm-evaluation-harness) for formats, benchmarks,
strategies, extractors, metrics and model backends.

>>> r = Registry("formats")
>>> @r.register("goat", "goat-cot")
... def render(x): return x
>>> r.get("goat-cot") is render
True
>>> r.get("gaot")
Traceback (most recent call last):
...
KeyError: "unknown formats 'gaot'; did you mean 'goat'? Known: goat, goat-cot"
"""
from __future__ import annotations

import difflib
import importlib
from typing import Any, Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Named objects with aliases, lazy ``"module:attr"`` entries and a did-you-mean error."""

    def __init__(self, kind: str, base: type | None = None) -> None:
        self.kind = kind
        self.base = base
        self._items: dict[str, Any] = {}
        self._frozen = False

    def register(self, *names: str) -> Callable[[T], T]:
        """Decorator: register the decorated object under every name given."""

        def deco(obj: T) -> T:
            for name in names:
                self.add(name, obj)
            return obj

        return deco

    def add(self, name: str, obj: Any) -> None:
        """Register ``obj`` (or a lazy ``"module:attr"`` string) under ``name``."""
        if self._frozen:
            raise RuntimeError(f"{self.kind} registry is frozen; cannot add {name!r}")
        if name in self._items and self._items[name] is not obj:
            raise ValueError(f"duplicate {self.kind} name {name!r}")
        self._items[name] = obj

    def get(self, name: str) -> T:
        """Return the object registered as ``name``; unknown names raise KeyError with a hint."""
        if name not in self._items:
            raise KeyError(self.unknown_message(name))
        obj = self._items[name]
        if isinstance(obj, str) and ":" in obj:
            module, attr = obj.split(":", 1)
            obj = getattr(importlib.import_module(module), attr)
            self._items[name] = obj
        if self.base is not None and isinstance(obj, type) and not issubclass(obj, self.base):
            raise TypeError(f"{self.kind} {name!r} is not a {self.base.__name__}")
        return obj

    def unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(name, list(self._items), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else "."
        return f"unknown {self.kind} {name!r}{hint} Known: {', '.join(sorted(self._items))}"

    def names(self) -> list[str]:
        return sorted(self._items)

    def freeze(self) -> None:
        self._frozen = True

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
