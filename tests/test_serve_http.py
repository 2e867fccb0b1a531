"""``mathwright serve`` round trip on loopback: the official ``openai`` client and our HTTP backend against a
tiny random LLaMA served by uvicorn in a thread."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from mathwright.models.base import GenerationConfig, cut_at_stop, load_model
from mathwright.models.serve import render_chat


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served():
    import torch
    import uvicorn

    from mathwright.models.serve import build_app

    torch.set_num_threads(1)
    model = load_model("tiny-100k")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(build_app(model, "tiny"), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):  # bounded wait for startup
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield model, f"http://127.0.0.1:{port}/v1"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.slow
def test_openai_client_round_trip(served) -> None:
    from openai import OpenAI

    import httpx

    model, base = served
    assert httpx.get(base[: -len("/v1")] + "/health", timeout=10).json() == {"status": "ok"}
    client = OpenAI(base_url=base, api_key="unused", max_retries=0, timeout=60)
    assert [m.id for m in client.models.list().data] == ["tiny"]

    r = client.completions.create(model="tiny", prompt="12+7=", max_tokens=6, temperature=0, n=2)
    texts = [c.text for c in sorted(r.choices, key=lambda c: c.index)]
    direct = model.generate(["12+7="], GenerationConfig(max_new_tokens=6, temperature=0, n=2))[0]
    assert texts == direct and texts[0] == texts[1]  # greedy: both samples agree, and match the model itself
    assert r.usage.completion_tokens <= 12 and r.choices[0].finish_reason in ("stop", "length")

    # Sampling with a seed is reproducible; stop strings cut exactly where the model's own cut does.
    a = client.completions.create(model="tiny", prompt="3*4=", max_tokens=8, temperature=0.9, top_p=0.9, seed=5)
    b = client.completions.create(model="tiny", prompt="3*4=", max_tokens=8, temperature=0.9, top_p=0.9, seed=5)
    assert a.choices[0].text == b.choices[0].text
    full = client.completions.create(model="tiny", prompt="9-2=", max_tokens=8, temperature=0).choices[0].text
    if len(full) >= 4:
        stop = full[2:4]
        cut = client.completions.create(model="tiny", prompt="9-2=", max_tokens=8, temperature=0, stop=[stop])
        assert cut.choices[0].text == cut_at_stop(full, [stop])

    chat = client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "What is 2+3?"}],
                                          max_tokens=5, temperature=0)
    expected = model.generate([render_chat([{"role": "user", "content": "What is 2+3?"}])],
                              GenerationConfig(max_new_tokens=5, temperature=0))[0][0]
    assert chat.choices[0].message.role == "assistant" and chat.choices[0].message.content == expected


@pytest.mark.slow
def test_http_backend_against_serve(served) -> None:
    from mathwright.models.http import HTTPModel, HTTPModelError

    model, base = served
    remote = load_model(base)  # no #name: the first id from /v1/models
    assert remote.model == "tiny"
    cfg = GenerationConfig(max_new_tokens=5, temperature=0, n=2, stop=("\n",))
    prompts = ["1+1=", "20*3=", "7-4="]
    got = remote.generate(prompts, cfg)
    assert got == [model.generate([p], cfg)[0] for p in prompts]
    assert load_model(base + "#tiny").generate(["5+5="], GenerationConfig(max_new_tokens=3))[0] == \
        model.generate(["5+5="], GenerationConfig(max_new_tokens=3))[0]

    with pytest.raises(HTTPModelError, match="422"):  # a bad request is not retried
        remote._request("POST", "/completions", json={"prompt": "x", "temperature": 5})
    dead = f"http://127.0.0.1:{_free_port()}/v1"
    t0 = time.monotonic()
    with pytest.raises(HTTPModelError, match="after 3 attempts"):
        HTTPModel(dead, "tiny", retries=2, backoff=0.01).generate(["x"], GenerationConfig(max_new_tokens=1))
    assert time.monotonic() - t0 < 20


def test_render_chat_uses_the_template_when_there_is_one() -> None:
    from mathwright.models.tiny import char_tokenizer

    tok = char_tokenizer()
    msgs = [{"role": "system", "content": "Be exact."}, {"role": "user", "content": "2+2?"}]
    assert render_chat(msgs, tok) == "system: Be exact.\nuser: 2+2?\nassistant:"
    tok.chat_template = "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}<assistant>"
    assert render_chat(msgs, tok) == "<system>Be exact.<user>2+2?<assistant>"


def test_vllm_backend_says_how_to_install(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "vllm", None)  # behave as if vllm were not installed
    with pytest.raises(ImportError, match="pip install"):
        load_model("vllm:/models/none")


def test_serve_command_wires_the_app(monkeypatch) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from mathwright.cli import app

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda a, **kw: seen.update(app=a, **kw))
    res = CliRunner().invoke(app, ["serve", "tiny-100k", "--port", "8123", "--name", "t"])
    assert res.exit_code == 0, res.output
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8123)
    paths = {r.path for r in seen["app"].routes}
    assert {"/v1/models", "/v1/completions", "/v1/chat/completions"} <= paths
