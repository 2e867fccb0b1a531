"""Character tokenizer and tiny model presets: exact round trip, standard HF save/load, prompt masking."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mathwright.models.tiny import VOCAB_CHARS, build_tiny, char_tokenizer, save_tiny, tiny_config

TOK = char_tokenizer()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=VOCAB_CHARS, max_size=200))
def test_round_trip_exact(text):
    ids = TOK(text)["input_ids"]
    assert ids[0] == TOK.bos_token_id
    assert len(ids) == len(text) + 1  # one token per character
    assert TOK.decode(ids, skip_special_tokens=True) == text


def test_every_vocab_char_is_its_own_token():
    for c in VOCAB_CHARS:
        ids = TOK(c, add_special_tokens=False)["input_ids"]
        assert len(ids) == 1 and ids[0] != TOK.unk_token_id, repr(c)


def test_unknown_char_maps_to_unk_not_dropped():
    ids = TOK("1€2é3", add_special_tokens=False)["input_ids"]
    assert len(ids) == 5 and ids[3] == TOK.unk_token_id


def test_saved_checkpoint_loads_with_auto_classes(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    save_tiny(tmp_path, "tiny-100k")
    cfg = json.loads((tmp_path / "tokenizer_config.json").read_text())
    assert cfg["tokenizer_class"] == "PreTrainedTokenizerFast"  # loadable by transformers 4.x / vLLM too
    tok = AutoTokenizer.from_pretrained(tmp_path)
    model = AutoModelForCausalLM.from_pretrained(tmp_path)
    text = "What is 12345 * 678?\nAnswer: 12345 * 678 = 8369910"
    assert tok.decode(tok(text)["input_ids"], skip_special_tokens=True) == text
    assert tok(text)["input_ids"] == TOK(text)["input_ids"]
    assert tok.padding_side == "left" and tok.pad_token_id == 0
    assert model.config.model_type == "llama" and model.config.vocab_size == len(tok)


def test_presets_and_explicit_fields():
    assert tiny_config("tiny-6m").hidden_size == 256
    c = tiny_config("tiny-1m", num_hidden_layers=2, hidden_size=96)
    assert (c.num_hidden_layers, c.hidden_size, c.intermediate_size) == (2, 96, 384)
    with pytest.raises(ValueError, match="did you mean 'tiny-6m'"):
        tiny_config("tiny-6M")
    model, tok = build_tiny("tiny-100k", seed=1)
    model2, _ = build_tiny("tiny-100k", seed=1)
    assert all((a == b).all() for a, b in zip(model.parameters(), model2.parameters()))


def test_prompt_masking_labels(tmp_path):
    """SFTTrainer's prepared rows: labels are -100 over exactly the prompt tokens (BOS included), and
    equal the input ids over the completion and the appended EOS."""
    from datasets import Dataset
    from trl import SFTTrainer

    from mathwright.train.sft import TrainConfig, load_records, sft_config

    data = tmp_path / "g.jsonl"
    recs = [{"instruction": "12+7", "output": "12 + 7 = 19"}, {"instruction": "What is 3 * 45?", "output": "3 * 45 = 135"}]
    data.write_text("".join(json.dumps(r) + "\n" for r in recs))
    cfg = TrainConfig(model="tiny-100k", data=[str(data)], output_dir=str(tmp_path / "out"), trainer={"report_to": []})
    model, tok = build_tiny("tiny-100k")
    ds = Dataset.from_dict(load_records(cfg.data, cfg.prompt, cfg.completion))
    trainer = SFTTrainer(model=model, args=sft_config(cfg), train_dataset=ds, processing_class=tok)
    for rec, row in zip(recs, trainer.train_dataset):
        prompt = rec["instruction"] + "\nAnswer: "
        n_prompt = len(tok(prompt)["input_ids"])
        assert row["input_ids"] == tok(prompt + rec["output"])["input_ids"] + [tok.eos_token_id]
        assert row["labels"][:n_prompt] == [-100] * n_prompt
        assert row["labels"][n_prompt:] == row["input_ids"][n_prompt:]
        assert tok.decode(row["input_ids"][n_prompt:], skip_special_tokens=True) == rec["output"]
    batch = trainer.data_collator([trainer.train_dataset[0], trainer.train_dataset[1]])
    assert (batch["labels"][batch["attention_mask"] == 0] == -100).all()  # padding never trains
