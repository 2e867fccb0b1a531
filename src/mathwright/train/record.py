"""What a trained model directory says about how it was trained: ``mathwright_train.yaml``, the resolved
:class:`~mathwright.train.sft.TrainConfig` that ``mathwright train`` writes beside the weights.

Evaluators read two of its fields from there, so a model is asked the way it was taught: ``format`` (the
registry name of the training data's format; ``mathwright eval arith`` needs no ``--format``) and
``prompt`` (the training prompt template).

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / TRAIN_RECORD).write_text(yaml.safe_dump({"model": "tiny-1m", "format": "aligned8", "prompt": "{instruction}\\nAnswer: "}))
>>> trained_with(str(d))
TrainedWith(format='aligned8', prompt='{instruction}\\nAnswer: ')
>>> trained_with("tiny-1m") is None  # not a directory: nothing recorded
True
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

TRAIN_RECORD = "mathwright_train.yaml"


@dataclass(frozen=True)
class TrainedWith:
    """The training format (None: the data and recipe named none) and prompt template of a model."""

    format: Optional[str]
    prompt: Optional[str]


def model_dir(model: str) -> Optional[Path]:
    """The local directory behind a model spec (a directory, or ``vllm:DIR``), else None."""
    path = Path(model.removeprefix("vllm:"))
    return path if path.is_dir() else None


def trained_with(model: str) -> Optional[TrainedWith]:
    """What ``model``'s directory records (see the module docstring); None when it records nothing (a hub id,
    a server, a ``.gguf`` file, or a directory not written by ``mathwright train``)."""
    d = model_dir(model)
    path = d / TRAIN_RECORD if d is not None else None
    if path is None or not path.is_file():
        return None
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    if not isinstance(data, dict):
        return None
    fmt, prompt = data.get("format"), data.get("prompt")
    return TrainedWith(fmt if isinstance(fmt, str) and fmt else None, prompt if isinstance(prompt, str) else None)
