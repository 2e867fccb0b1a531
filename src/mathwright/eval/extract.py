"""Answer extraction as small named filters, composed into chains (lm-eval style).

A *cleaner* maps text to text (cut run-on generations); an *extractor* maps text to the answer span
it finds, or ``None``. A :class:`Chain` applies its cleaners, then yields the spans of its extractors
in order; the grader takes the first span that parses as the answer type.

>>> last_boxed(r"so \\boxed{\\frac{1}{2}} wait, \\boxed{\\frac{1}{3}}")
'\\\\frac{1}{3}'
>>> answer_is("So 2 + 2 = 4. The answer is $1,234.50.\\n")
'$1,234.50'
>>> choice_letter("The speed is a constant, so the answer is (B).")
'B'
>>> choice_letter("It is a constant speed.") is None
True
>>> cut_runon("18 eggs. The answer is 18.\\n\\nQuestion: Tom has")
'18 eggs. The answer is 18.'
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterator

from mathwright.registry import Registry

Cleaner = Callable[[str], str]
Extractor = Callable[[str], "str | None"]

CLEANERS: Registry[Cleaner] = Registry("answer cleaners")
EXTRACTORS: Registry[Extractor] = Registry("answer extractors")

# Where a base model starts inventing the next few-shot item (MAmmoTH cuts at "### Instruction").
RUNON_MARKERS = ("\nQuestion:", "Question:", "### Instruction", "\nQ:", "\n\nQ ", "</s>", "<|im_end|>",
                 "<end_of_turn>", "<|endoftext|>", "\nUSER:", "\nProblem:")

NUM = r"-?\$?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?|-?\$?\.\d+"
NUMBER_TOKEN = re.compile(rf"\\[dt]?frac\{{\s*-?\d+\s*\}}\{{\s*-?\d+\s*\}}|(?:{NUM})(?:\s*/\s*\d+(?!\.\d))?\s*%?")


@CLEANERS.register("cut_runon")
def cut_runon(text: str) -> str:
    """Cut at the first marker of an invented next question (never at position 0)."""
    cut = len(text)
    for m in RUNON_MARKERS:
        i = text.find(m, 1)
        if i != -1:
            cut = min(cut, i)
    return text[:cut].strip()


@CLEANERS.register("strip")
def strip(text: str) -> str:
    return text.strip()


def _balanced(text: str, start: int) -> str | None:
    """Content of the brace group opening at ``text[start] == '{'`` (nested braces allowed)."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
    return None


@EXTRACTORS.register("boxed")
def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` / ``\\fbox{...}`` (nested braces kept)."""
    best = None
    for m in re.finditer(r"\\(?:boxed|fbox)\s*\{", text):
        inner = _balanced(text, m.end() - 1)
        if inner is not None:
            best = inner.strip()
    if best is None:  # "\boxed 5" without braces
        m2 = list(re.finditer(r"\\boxed\s+([^\s$]+)", text))
        best = m2[-1].group(1) if m2 else None
    return best


@EXTRACTORS.register("gsm8k_hash")
def gsm8k_hash(text: str) -> str | None:
    """The rest of the line after the last ``####``."""
    if "####" not in text:
        return None
    span = text.rsplit("####", 1)[1].strip().split("\n", 1)[0].strip()
    return span or None


# A period after one of these is not the end of the answer sentence ("i.e. 36", "approx. 5").
ABBREVIATIONS = ("i.e", "e.g", "approx", "ca", "cf", "vs", "resp", "viz")
_SENTENCE_END = re.compile(r"[.!](?=\s|$)")  # not "?": "The answer is 36? No, 40." goes on
_ABBREV_BEFORE = re.compile(r"(?:^|[\s(\[,;])(?:" + "|".join(re.escape(a) for a in ABBREVIATIONS) + r")$", re.I)


def answer_sentence(span: str) -> str:
    """``span`` up to the end of its first sentence: a ``.`` or ``!`` followed by a space or the end, but
    not a decimal point (``3.5``) and not the period of an abbreviation (``i.e.``, ``e.g.``, ``approx.``).

    >>> answer_sentence("3 boxes of 12 eggs, i.e. 36 eggs. She sells 12.")
    '3 boxes of 12 eggs, i.e. 36 eggs'
    """
    for m in _SENTENCE_END.finditer(span):
        if not _ABBREV_BEFORE.search(span[:m.start()]):
            return span[:m.start()].strip()
    return span.strip()


@EXTRACTORS.register("answer_is")
def answer_is(text: str) -> str | None:
    """The answer sentence after the last "the answer is" / "Answer:" (case-insensitive): the rest of its
    line, up to the end of the sentence (:func:`answer_sentence`). Which number of it counts is the
    grader's number policy (``last`` by default, as in GSM8K-style extraction)."""
    ms = list(re.finditer(r"(?:the\s+(?:final\s+)?answer\s+is|final\s+answer\s*:|^answer\s*:)\s*:?",
                          text, re.I | re.M))
    if not ms:
        return None
    span = answer_sentence(text[ms[-1].end():].strip().split("\n", 1)[0])
    return span or None


@EXTRACTORS.register("last_number")
def last_number(text: str) -> str | None:
    """The last number-like token in the text (commas, ``$``, fractions, percents kept for parsing)."""
    ms = NUMBER_TOKEN.findall(text)
    return ms[-1].strip() if ms else None


@EXTRACTORS.register("last_line")
def last_line(text: str) -> str | None:
    """The last non-empty line (the answer of a PoT program's stdout)."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else None


# Choice letters: anchored and case-sensitive, so the article "a" (and a sentence-initial "A") never counts.
_CHOICE_PATTERNS = [
    re.compile(r"answer\s+(?:is|:)?\s*(?:option|choice)?\s*:?\s*\(?\**([A-E])\b(?![a-z'])\)?", re.I),
    re.compile(r"\\boxed\{\s*\(?([A-E])\)?\s*\}"),
    re.compile(r"\(([A-E])\)"),
    re.compile(r"(?:option|choice)\s+\(?([A-E])\b", re.I),
    re.compile(r"^\s*\**\(?([A-E])\)?\**\s*(?:[.):]|$)", re.M),
]


_LOWER_AT_END = re.compile(r"answer\s+is\s*:?\s*\(?([a-e])\)?\.?\s*$", re.M)


@EXTRACTORS.register("choice")
def choice_letter(text: str) -> str | None:
    """A choice letter in one of several styles: ``(B)``, ``answer is B``, ``Answer: B``, ``\\boxed{B}``,
    ``option B``, or a line that is just ``B`` / ``B.`` / ``B)``. The last match of the first style found wins.
    """
    for pat in _CHOICE_PATTERNS:
        ms = [m.group(1) for m in pat.finditer(text) if m.group(1) in "ABCDE"]  # upper case only
        if pat is _CHOICE_PATTERNS[0]:  # "the answer is c." at the end of a line: lower case is safe there
            ms += [m.group(1).upper() for m in _LOWER_AT_END.finditer(text)]
        if ms:
            return ms[-1]
    return None


@dataclass(frozen=True)
class Chain:
    """Cleaners applied in order, then extractors tried in order (see the module docstring)."""

    cleaners: tuple[str, ...] = ("cut_runon",)
    extractors: tuple[str, ...] = ("gsm8k_hash", "answer_is", "boxed", "last_number")

    def clean(self, text: str) -> str:
        for name in self.cleaners:
            text = CLEANERS.get(name)(text)
        return text

    def spans(self, text: str) -> Iterator[tuple[str, str]]:
        """``(extractor name, span)`` for each extractor that found something, in chain order."""
        text = self.clean(text)
        for name in self.extractors:
            span = EXTRACTORS.get(name)(text)
            if span is not None:
                yield name, span


# Default chains per answer type (the corrected scorer).
CHAINS: dict[str, Chain] = {
    "number": Chain(("cut_runon",), ("gsm8k_hash", "answer_is", "boxed", "last_number")),
    "expression": Chain(("cut_runon",), ("boxed", "answer_is", "gsm8k_hash", "last_number")),
    "choice": Chain(("cut_runon",), ("choice", "answer_is", "boxed", "last_number")),
    "program_output": Chain(("strip",), ("last_line",)),
}
