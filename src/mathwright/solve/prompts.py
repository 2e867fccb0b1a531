"""Prompt templates for word problems: Alpaca (MAmmoTH), lm-eval's GSM8K 8-shot chain of thought (with a
program-of-thought twin over the same eight exemplars), and the model's own chat template.

A template renders one question for a mode (``cot`` or ``pot``) and names its stop strings. PoT appends
MAmmoTH's trigger phrase ``" Let's write a program."`` to the question. The ``alpaca`` template is MAmmoTH
v1's evaluation protocol byte for byte (``math_eval/prompt_utils.py``, ``run_open.py``, ``run_choice.py``;
pinned in ``tests/test_mammoth_protocol.py``, departures listed in ``docs/mammoth-protocol.md``).

>>> p = PROMPTS.get("alpaca").render("What is 2+3?", "pot")
>>> p.endswith("What is 2+3? Let's write a program.\\n\\n### Response:")
True
>>> PROMPTS.get("fewshot").render("What is 2+3?", "cot").endswith("Q: What is 2+3?\\nA:")
True
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mathwright.data.benchmarks import get_spec
from mathwright.registry import Registry

POT_TRIGGER = " Let's write a program."
ALPACA_HEADER = ("Below is an instruction that describes a task. "
                 "Write a response that appropriately completes the request.")
# MAmmoTH v1's eight vLLM stop strings (run_open.py), in its order.
MAMMOTH_STOPS = ("USER:", "USER", "ASSISTANT:", "ASSISTANT", "### Instruction:", "### Instruction", "Response:",
                 "Response")
# The ``alpaca_mc`` pre-fill: run_choice.py uses it for every multiple-choice prompt, PoT included.
MC_PREFILL = " Let's solve the multi-choice question step by step.\n"
LMEVAL_STOPS = ("Q:", "</s>", "<|im_end|>", "Question:")

# lm-evaluation-harness gsm8k_cot (Wei et al. 2022) exemplars, with a program for each (ours, for PoT).
GSM8K_EXEMPLARS: list[tuple[str, str, str]] = [
    ("There are 15 trees in the grove. Grove workers will plant trees in the grove today. After they are done, "
     "there will be 21 trees. How many trees did the grove workers plant today?",
     "There are 15 trees originally. Then there were 21 trees after some more were planted. So there must "
     "have been 21 - 15 = 6. The answer is 6.",
     "trees_before = 15\ntrees_after = 21\nans = trees_after - trees_before\nprint(ans)"),
    ("If there are 3 cars in the parking lot and 2 more cars arrive, how many cars are in the parking lot?",
     "There are originally 3 cars. 2 more cars arrive. 3 + 2 = 5. The answer is 5.",
     "cars = 3\narrived = 2\nans = cars + arrived\nprint(ans)"),
    ("Leah had 32 chocolates and her sister had 42. If they ate 35, how many pieces do they have left in total?",
     "Originally, Leah had 32 chocolates. Her sister had 42. So in total they had 32 + 42 = 74. After eating "
     "35, they had 74 - 35 = 39. The answer is 39.",
     "leah = 32\nsister = 42\neaten = 35\nans = leah + sister - eaten\nprint(ans)"),
    ("Jason had 20 lollipops. He gave Denny some lollipops. Now Jason has 12 lollipops. How many lollipops "
     "did Jason give to Denny?",
     "Jason started with 20 lollipops. Then he had 12 after giving some to Denny. So he gave Denny 20 - 12 = 8. "
     "The answer is 8.",
     "start = 20\nnow = 12\nans = start - now\nprint(ans)"),
    ("Shawn has five toys. For Christmas, he got two toys each from his mom and dad. How many toys does he "
     "have now?",
     "Shawn started with 5 toys. If he got 2 toys each from his mom and dad, then that is 4 more toys. "
     "5 + 4 = 9. The answer is 9.",
     "toys = 5\nfrom_mom = 2\nfrom_dad = 2\nans = toys + from_mom + from_dad\nprint(ans)"),
    ("There were nine computers in the server room. Five more computers were installed each day, from monday "
     "to thursday. How many computers are now in the server room?",
     "There were originally 9 computers. For each of 4 days, 5 more computers were added. So 5 * 4 = 20 "
     "computers were added. 9 + 20 is 29. The answer is 29.",
     "computers = 9\nper_day = 5\ndays = 4  # monday to thursday\nans = computers + per_day * days\nprint(ans)"),
    ("Michael had 58 golf balls. On tuesday, he lost 23 golf balls. On wednesday, he lost 2 more. How many "
     "golf balls did he have at the end of wednesday?",
     "Michael started with 58 golf balls. After losing 23 on tuesday, he had 58 - 23 = 35. After losing 2 "
     "more, he had 35 - 2 = 33 golf balls. The answer is 33.",
     "balls = 58\nlost_tuesday = 23\nlost_wednesday = 2\nans = balls - lost_tuesday - lost_wednesday\nprint(ans)"),
    ("Olivia has $23. She bought five bagels for $3 each. How much money does she have left?",
     "Olivia had 23 dollars. 5 bagels for 3 dollars each will be 5 x 3 = 15 dollars. So she has 23 - 15 "
     "dollars left. 23 - 15 is 8. The answer is 8.",
     "money = 23\nbagels = 5\nprice = 3\nans = money - bagels * price\nprint(ans)"),
]


@dataclass(frozen=True)
class PromptTemplate:
    """Renders a question for a mode; ``prefill_code`` means the prompt already opened a code block."""

    name: str
    stop: tuple[str, ...] = ()
    pot_stop: tuple[str, ...] = ()

    def render(self, question: str, mode: str, model: Any = None, answer_type: str = "number",
               benchmark: str = "") -> str:
        raise NotImplementedError

    def stops(self, mode: str) -> tuple[str, ...]:
        return self.pot_stop if mode == "pot" and self.pot_stop else self.stop


def instruction(question: str, mode: str) -> str:
    if mode not in ("cot", "pot"):
        raise ValueError(f"unknown prompt mode {mode!r} (cot or pot)")
    return question.strip() + (POT_TRIGGER if mode == "pot" else "")


class Alpaca(PromptTemplate):
    """MAmmoTH's zero-shot Alpaca template. The multiple-choice sets (AQuA, SAT, MMLU-Math) pre-fill the
    response in both modes (``alpaca_mc``: ``run_choice.py`` keeps it under ``--stem_flan_type pot_prompt``);
    NumGLUE's two-option items do not (MAmmoTH runs NumGLUE with ``run_open.py``). Without a benchmark name,
    any ``choice`` question is pre-filled."""

    def render(self, question: str, mode: str, model: Any = None, answer_type: str = "number",
               benchmark: str = "") -> str:
        p = f"{ALPACA_HEADER}\n\n### Instruction:\n{instruction(question, mode)}\n\n### Response:"
        mc = get_spec(benchmark).multiple_choice if benchmark else answer_type == "choice"
        return p + MC_PREFILL if mc else p


class FewShot(PromptTemplate):
    """lm-eval ``gsm8k_cot``: eight ``Q: ..\\nA: ..`` exemplars; for PoT the same questions with programs,
    and the response opens a ```` ```python ```` block so generation stops at the closing fence."""

    def render(self, question: str, mode: str, model: Any = None, answer_type: str = "number",
               benchmark: str = "") -> str:
        q = instruction(question, mode)
        if mode == "cot":
            shots = "".join(f"Q: {eq}\nA: {ea}\n\n" for eq, ea, _ in GSM8K_EXEMPLARS)
            return f"{shots}Q: {q}\nA:"
        shots = "".join(f"Q: {eq}{POT_TRIGGER}\nA:\n```python\n{code}\n```\n\n" for eq, _, code in GSM8K_EXEMPLARS)
        return f"{shots}Q: {q}\nA:\n```python\n"


class Chat(PromptTemplate):
    """The model's own chat template (``tokenizer.apply_chat_template``), one user turn."""

    def render(self, question: str, mode: str, model: Any = None, answer_type: str = "number",
               benchmark: str = "") -> str:
        tok = getattr(model, "tokenizer", None)
        if tok is None or not getattr(tok, "chat_template", None):
            raise ValueError(f"prompt 'chat': model {getattr(model, 'name', model)!r} has no chat template")
        ask = (" Write a Python program that prints the answer." if mode == "pot"
               else " Solve it step by step and finish with 'The answer is X.'")
        msgs = [{"role": "user", "content": instruction(question, mode) + ask}]
        return tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)


PROMPTS: Registry[PromptTemplate] = Registry("prompt templates")
PROMPTS.add("alpaca", Alpaca("alpaca", MAMMOTH_STOPS))
PROMPTS.add("fewshot", FewShot("fewshot", LMEVAL_STOPS, ("```", "\nQ:", "Question:")))
PROMPTS.add("chat", Chat("chat", ("<|im_end|>", "<end_of_turn>", "</s>")))
PROMPTS.add("gsm8k-cot", PROMPTS.get("fewshot"))
DEFAULT_PROMPT = "fewshot"

_FENCE = re.compile(r"```(?:python|py)[ \t]*\n(.*?)(?:```|$)|\A\s*```[ \t]*\n(.*?)(?:```|$)", re.S)


def extract_program(text: str) -> str:
    """The program in a PoT completion: the first fenced block if there is one, else the text up to a
    run-on marker (MAmmoTH's models answer with bare code).

    >>> extract_program("Sure:\\n```python\\nprint(1)\\n```\\nDone")
    'print(1)\\n'
    >>> extract_program("x = 2\\nprint(x)\\n### Instruction:\\nnext")
    'x = 2\\nprint(x)\\n'
    """
    m = _FENCE.search(text)
    if m:  # an opened ```python block (or a bare ``` at the very start)
        return m.group(1) if m.group(1) is not None else m.group(2)
    for marker in ("### Instruction", "\nQ:", "Question:", "```"):
        i = text.find(marker)
        if i != -1:
            text = text[:i]
    return text.strip("\n") + "\n"
