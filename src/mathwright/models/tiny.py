"""Tiny LLaMA-architecture models and a character-level tokenizer, all in standard Hugging Face form.

The model is transformers' own ``LlamaForCausalLM`` built from a small ``LlamaConfig``; the tokenizer is a
``PreTrainedTokenizerFast`` over a one-character-per-token vocabulary (printable ASCII, newline, tab and a
few maths symbols) plus the specials ``⟨pad⟩ ⟨s⟩ ⟨/s⟩ ⟨unk⟩``. Saved checkpoints therefore load with
``AutoModelForCausalLM`` / ``AutoTokenizer`` and can be served by vLLM, and the same trainer and
``generate()`` path serves a 100k-parameter test model and a 7B one.

Every digit is its own token, which the Goat paper credits for LLaMA's arithmetic (goat.md §5).

API:
- :data:`PRESETS` — named sizes (``tiny-100k``, ``tiny-1m``, ``tiny-6m``, ``tiny-25m``, ``tiny-85m``).
- :func:`char_tokenizer` — the tokenizer (exact round trip for every vocabulary character).
- :func:`tiny_config` — a ``LlamaConfig`` from a preset name and/or explicit fields.
- :func:`build_tiny` — ``(model, tokenizer)`` freshly initialised under a seed.
- :func:`save_tiny` — build and ``save_pretrained`` both into a directory.
- :func:`make_portable` — make a saved tokenizer loadable by transformers 4.x too (vLLM).
- :func:`is_preset` — does a model spec name a preset (``tiny-6m``) rather than a checkpoint?

>>> tok = char_tokenizer()
>>> ids = tok("12+7\\nAnswer: ")["input_ids"]
>>> ids[0] == tok.bos_token_id, len(ids)
(True, 14)
>>> tok.decode(ids, skip_special_tokens=True)
'12+7\\nAnswer: '
"""
from __future__ import annotations

import string
from pathlib import Path
from typing import Any, Sequence

# Special tokens are spelt with U+27E8/U+27E9 brackets, which are not in the vocabulary: a text that
# contains a literal "<s>" or "</s>" (HTML, code) is then tokenized as plain characters, so the round trip
# stays exact for every string over VOCAB_CHARS. ids 0..3; pad id 0 as in Goat's LLaMA setup.
PAD, BOS, EOS, UNK = "⟨pad⟩", "⟨s⟩", "⟨/s⟩", "⟨unk⟩"
SPECIALS = (PAD, BOS, EOS, UNK)

# Printable ASCII covers digits, operators, letters, punctuation and space; newline/tab for traces;
# a few non-ASCII maths symbols that word problems and CAEF traces use.
EXTRA_SYMBOLS = "×÷−–—·≤≥≠≈√π°²³½¼¾€£¥’‘“”…"
VOCAB_CHARS = "".join(dict.fromkeys(string.digits + string.ascii_letters + string.punctuation + " \n\t" + EXTRA_SYMBOLS))

# Named sizes. Parameter counts (embeddings untied) are approximate and printed by `describe()`.
PRESETS: dict[str, dict[str, int]] = {
    # for tests: trains in seconds
    "tiny-100k": dict(hidden_size=64, intermediate_size=192, num_hidden_layers=2, num_attention_heads=4),
    "tiny-1m": dict(hidden_size=128, intermediate_size=384, num_hidden_layers=4, num_attention_heads=4),
    "tiny-6m": dict(hidden_size=256, intermediate_size=768, num_hidden_layers=6, num_attention_heads=8),
    "tiny-25m": dict(hidden_size=384, intermediate_size=1152, num_hidden_layers=12, num_attention_heads=6),
    "tiny-85m": dict(hidden_size=768, intermediate_size=2048, num_hidden_layers=12, num_attention_heads=12),
}


def is_preset(spec: str) -> bool:
    """True when ``spec`` names a tiny preset (e.g. ``"tiny-6m"``) rather than a checkpoint path or hub id.

    >>> is_preset("tiny-6m"), is_preset("runs/q/model")
    (True, False)
    """
    return spec in PRESETS


def char_tokenizer(chars: str = VOCAB_CHARS, model_max_length: int = 2048, words: Sequence[str] = ()) -> Any:
    """A character-level ``PreTrainedTokenizerFast``: one token per character, BOS prepended, unknown
    characters -> ``<unk>``. Decoding joins tokens with no separator, so
    ``decode(encode(s), skip_special_tokens=True) == s`` for any ``s`` over ``chars``.

    ``words``: strings that become one token each wherever they occur (longest match first), the rest of
    the text still one token per character; the round trip stays exact. A format with a fixed
    vocabulary of markers (CAEF's ``[HEAD1]``, ``RIGHT``, ...) is then several times shorter.

    >>> tok = char_tokenizer(words=["[HEAD1]", "|7", "RIGHT"])
    >>> ids = tok("a[HEAD1]|7|8 RIGHT", add_special_tokens=False)["input_ids"]
    >>> len(ids), tok.decode(ids)
    (7, 'a[HEAD1]|7|8 RIGHT')
    """
    from tokenizers import Tokenizer, decoders, models, processors
    from transformers import PreTrainedTokenizerFast

    chars = "".join(dict.fromkeys(chars))  # dedupe, keep order
    vocab = {t: i for i, t in enumerate(SPECIALS)}
    for c in chars:
        vocab.setdefault(c, len(vocab))
    # A BPE model with no merges is a pure character lookup; without a pre-tokenizer spaces and
    # newlines are ordinary characters, and the Fuse decoder concatenates with no separator.
    core = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token=UNK, fuse_unk=False))
    core.add_special_tokens(list(SPECIALS))
    core.decoder = decoders.Fuse()
    core.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A $B", special_tokens=[(BOS, vocab[BOS])]
    )
    if words:
        from tokenizers import AddedToken

        core.add_tokens([AddedToken(w, normalized=False, single_word=False, lstrip=False, rstrip=False)
                         for w in dict.fromkeys(words)])
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        unk_token=UNK,
        padding_side="left",  # decoder-only generation pads on the left
        clean_up_tokenization_spaces=False,  # keep " ." etc. byte-exact
        model_max_length=model_max_length,
    )


def tiny_config(preset: str | None = "tiny-1m", *, vocab_size: int | None = None, **fields: Any) -> Any:
    """A ``LlamaConfig`` for preset ``preset`` (or none: transformers' defaults) updated with ``fields``.

    >>> c = tiny_config("tiny-100k", num_hidden_layers=3)
    >>> c.hidden_size, c.num_hidden_layers, c.model_type
    (64, 3, 'llama')
    """
    from transformers import LlamaConfig

    if preset is not None and preset not in PRESETS:
        import difflib

        close = difflib.get_close_matches(preset, list(PRESETS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown tiny preset {preset!r}{hint} Known: {', '.join(PRESETS)}")
    tok_ids = dict(pad_token_id=0, bos_token_id=1, eos_token_id=2)
    base: dict[str, Any] = dict(
        vocab_size=vocab_size or len(SPECIALS) + len(VOCAB_CHARS),
        max_position_embeddings=2048,  # RoPE: costs nothing, covers Goat's longest CoT (~600 chars)
        rms_norm_eps=1e-5,
        tie_word_embeddings=False,
        attention_bias=False,
        **tok_ids,
    )
    base.update(PRESETS.get(preset or "", {}))
    base.update(fields)
    base.setdefault("num_key_value_heads", base.get("num_attention_heads", 4))
    return LlamaConfig(**base)


def build_tiny(preset: str | None = "tiny-1m", *, seed: int = 0, chars: str = VOCAB_CHARS, words: Sequence[str] = (),
               **fields: Any) -> tuple[Any, Any]:
    """``(LlamaForCausalLM, tokenizer)`` freshly initialised with ``torch.manual_seed(seed)``.

    >>> model, tok = build_tiny("tiny-100k")
    >>> model.config.vocab_size == len(tok)
    True
    """
    import torch
    from transformers import GenerationConfig, LlamaForCausalLM

    tok = char_tokenizer(chars, words=words)
    cfg = tiny_config(preset, vocab_size=len(tok), **fields)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(cfg)
    model.generation_config = GenerationConfig(
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id
    )
    return model, tok


def save_tiny(out_dir: str | Path, preset: str | None = "tiny-1m", *, seed: int = 0, **fields: Any) -> Path:
    """Build a fresh tiny model and save model + tokenizer to ``out_dir`` (standard HF layout)."""
    model, tok = build_tiny(preset, seed=seed, **fields)
    out = Path(out_dir)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    make_portable(out)
    return out


def make_portable(model_dir: str | Path) -> None:
    """Name the tokenizer class ``PreTrainedTokenizerFast`` in ``tokenizer_config.json``.

    transformers 5 writes its internal name ``TokenizersBackend``, which transformers 4.x (and so some vLLM
    builds) cannot resolve; ``PreTrainedTokenizerFast`` loads the same ``tokenizer.json`` in both.
    """
    import json

    from mathwright.io import write_json

    path = Path(model_dir) / "tokenizer_config.json"
    if not path.exists():
        return
    cfg = json.loads(path.read_text(encoding="utf-8"))
    if cfg.get("tokenizer_class") == "TokenizersBackend":
        cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
        write_json(path, cfg)


def describe(model: Any) -> str:
    """One line: architecture, layers x width, parameter count.

    >>> describe(build_tiny("tiny-100k")[0])
    'llama 2x64, 0.12M params'
    """
    c = model.config
    n = sum(p.numel() for p in model.parameters())
    return f"{c.model_type} {c.num_hidden_layers}x{c.hidden_size}, {n / 1e6:.2f}M params"
