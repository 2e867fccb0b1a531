"""``mathwright serve`` round trip on loopback: the official ``openai`` client and our HTTP backend against a
tiny random LLaMA served by uvicorn in a thread."""
from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def serving(app):
    """``app`` under uvicorn in a thread on 127.0.0.1 and an ephemeral port; yields the base URL."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):  # bounded wait for startup
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def served():
    import torch

    from mathwright.models.serve import build_app

    torch.set_num_threads(1)
    model = load_model("tiny-100k")
    app = build_app(model, "tiny")
    with serving(app) as url:
        yield model, url + "/v1", app


@pytest.mark.slow
def test_openai_client_round_trip(served) -> None:
    from openai import OpenAI

    import httpx

    model, base, _ = served
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

    model, base, _ = served
    remote = load_model(base)  # no #name: the first id from /v1/models
    assert remote.model == "tiny"
    cfg = GenerationConfig(max_new_tokens=5, temperature=0, n=2, stop=("\n",))
    prompts = ["1+1=", "20*3=", "7-4="]
    got = remote.generate(prompts, cfg)
    assert got == [model.generate([p], cfg)[0] for p in prompts]
    assert load_model(base + "#tiny").generate(["5+5="], GenerationConfig(max_new_tokens=3))[0] == \
        model.generate(["5+5="], GenerationConfig(max_new_tokens=3))[0]

    with pytest.raises(HTTPModelError, match="400"):  # a bad request is not retried
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
        load_model("vllm:some-org/some-model")  # a hub-id form: resolve() lets it through to the import


def test_serve_command_wires_the_app(monkeypatch) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from mathwright.cli import app

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda a, **kw: seen.update(app=a, **kw))
    port = _free_port()
    res = CliRunner().invoke(app, ["serve", "tiny-100k", "--port", str(port), "--name", "t", "--max-tokens", "64",
                                   "--max-queue", "3", "--max-body-bytes", "1000", "--max-batch-tokens", "500"])
    assert res.exit_code == 0, res.output
    assert (seen["host"], seen["port"]) == ("127.0.0.1", port)
    paths = {r.path for r in seen["app"].routes}
    assert {"/v1/models", "/v1/completions", "/v1/chat/completions"} <= paths
    lim = seen["app"].state.limits
    assert (lim.max_tokens, lim.max_queue, lim.max_body_bytes, lim.max_batch_tokens) == (64, 3, 1000, 500)
    assert CliRunner().invoke(app, ["serve", "tiny-100k", "--max-queue", "0"]).exit_code == 2


# --- streaming (issue 16) ----------------------------------------------------------------------------------------

def _sse_lines(url: str, body: dict) -> list[str]:
    import httpx

    with httpx.stream("POST", url, json=body, timeout=60) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        raw = r.read().decode("utf-8")
    assert raw.endswith("data: [DONE]\n\n")
    events = raw.split("\n\n")[:-1]
    assert all(e.startswith("data: ") and "\n" not in e for e in events), raw[:500]
    return [e[len("data: "):] for e in events]


@pytest.mark.slow
def test_stream_completions_joins_to_the_unstreamed_text(served) -> None:
    import json

    from openai import OpenAI

    model, base, _ = served
    client = OpenAI(base_url=base, api_key="unused", max_retries=0, timeout=60)
    for kw in ({}, {"stop": ["\t"]}, {"n": 2}):
        whole = client.completions.create(model="tiny", prompt="12+7=", max_tokens=24, temperature=0, **kw)
        chunks = list(client.completions.create(model="tiny", prompt="12+7=", max_tokens=24, temperature=0,
                                                stream=True, **kw))
        assert {c.object for c in chunks} == {"text_completion"}
        for choice in whole.choices:
            mine = [c.choices[0] for c in chunks if c.choices and c.choices[0].index == choice.index]
            pieces = [c.text for c in mine if c.text]
            assert len(pieces) >= 3, pieces  # a real stream, not one blob
            assert "".join(pieces) == choice.text
            assert [c.finish_reason for c in mine if c.finish_reason] == [choice.finish_reason]
            assert mine[-1].finish_reason is not None  # the finish chunk comes last
    direct = model.generate(["12+7="], GenerationConfig(max_new_tokens=24, temperature=0))[0][0]
    assert whole.choices[0].text == direct

    # raw wire format: data lines, a usage chunk when asked for, then [DONE]
    lines = _sse_lines(base + "/completions", {"prompt": "3*4=", "max_tokens": 10, "temperature": 0, "stream": True,
                                               "stream_options": {"include_usage": True}})
    assert lines[-1] == "[DONE]"
    objs = [json.loads(x) for x in lines[:-1]]
    assert objs[-1]["choices"] == [] and objs[-1]["usage"]["completion_tokens"] >= 1
    assert objs[-2]["choices"][0]["finish_reason"] in ("stop", "length")


@pytest.mark.slow
def test_stream_chat_joins_to_the_unstreamed_message(served) -> None:
    from openai import OpenAI

    model, base, _ = served
    client = OpenAI(base_url=base, api_key="unused", max_retries=0, timeout=60)
    msgs = [{"role": "user", "content": "What is 2+3?"}]
    whole = client.chat.completions.create(model="tiny", messages=msgs, max_completion_tokens=20, temperature=0)
    chunks = list(client.chat.completions.create(model="tiny", messages=msgs, max_tokens=20, temperature=0,
                                                 stream=True))
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) >= 3 and "".join(pieces) == whole.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == whole.choices[0].finish_reason
    assert len({c.id for c in chunks}) == 1


# --- hardening (issue 22) ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def long_served():
    """A tiny model with a 32k context, so one request can ask for far more tokens than a test waits for."""
    import torch

    from mathwright.models.hf import HFModel
    from mathwright.models.serve import build_app
    from mathwright.models.tiny import build_tiny

    torch.set_num_threads(1)
    model = HFModel(*build_tiny("tiny-100k", max_position_embeddings=32768), name="long")
    app = build_app(model, "long")
    with serving(app) as url:
        yield app, url + "/v1"


def _wait(pred, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


LONG = {"prompt": "1+1=", "max_tokens": 30000, "temperature": 0, "ignore_eos": True}  # > 30 s of decoding


@pytest.mark.slow
def test_a_dropped_long_request_is_cancelled_and_does_not_block(long_served) -> None:
    import httpx

    app, base = long_served
    eng = app.state.engine
    before = dict(eng.stats)
    with pytest.raises(httpx.ReadTimeout):  # the client gives up after 1.5 s, as in the issue
        httpx.post(base + "/completions", json=LONG, timeout=1.5)
    t0 = time.monotonic()
    r = httpx.post(base + "/completions", json={"prompt": "2+2=", "max_tokens": 4, "temperature": 0}, timeout=30)
    assert r.status_code == 200 and r.json()["choices"][0]["text"]
    assert time.monotonic() - t0 < 3
    assert _wait(lambda: eng.pending == 0, 5), "the dropped request kept generating"
    assert eng.stats["cancelled"] == before["cancelled"] + 1

    # A streaming client that hangs up is cancelled too; while it streams, short requests are served.
    with httpx.stream("POST", base + "/completions", json={**LONG, "stream": True}, timeout=30) as s:
        lines = s.iter_lines()
        assert [next(lines) for _ in range(5)]
        for _ in range(3):
            t0 = time.monotonic()
            r = httpx.post(base + "/chat/completions", timeout=30,
                           json={"messages": [{"role": "user", "content": "hi"}], "max_tokens": 8})
            assert r.status_code == 200 and time.monotonic() - t0 < 3
        assert _wait(lambda: eng.pending == 1, 2)  # the short ones are retired, the long one still runs
    assert _wait(lambda: eng.pending == 0, 5), "the closed stream kept generating"
    assert eng.stats["cancelled"] == before["cancelled"] + 2


@pytest.mark.slow
def test_fifty_concurrent_clients_and_disconnects(served) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    model, base, app = served
    prompts = [f"{i}+{i}=" for i in range(5)]
    want = {p: model.generate([p], GenerationConfig(max_new_tokens=8, temperature=0))[0][0] for p in prompts}

    def client(i: int) -> tuple[str, int, str]:
        p = prompts[i % 5]
        if i % 10 == 9:  # a client that gives up at once
            try:
                httpx.post(base + "/completions", json={"prompt": p, "max_tokens": 1500, "ignore_eos": True},
                           timeout=0.2)
            except httpx.TimeoutException:
                pass
        if i % 10 == 4:  # a streaming client that hangs up after two chunks
            body = {"messages": [{"role": "user", "content": p}], "max_tokens": 1500, "ignore_eos": True, "stream": True}
            with httpx.stream("POST", base + "/chat/completions", json=body, timeout=60) as s:
                lines = s.iter_lines()
                assert next(lines).startswith("data: ") and next(lines) == ""
        r = httpx.post(base + "/completions", json={"prompt": p, "max_tokens": 8, "temperature": 0}, timeout=60)
        return p, r.status_code, r.json()["choices"][0]["text"] if r.status_code == 200 else r.text

    with ThreadPoolExecutor(50) as ex:
        results = list(ex.map(client, range(50)))
    assert [code for _, code, _ in results] == [200] * 50
    assert all(text == want[p] for p, _, text in results)
    assert httpx.get(base[: -len("/v1")] + "/health", timeout=10).status_code == 200
    assert _wait(lambda: app.state.engine.pending == 0, 5)  # the dropped ones were cancelled, not left running


@pytest.mark.slow
def test_full_queue_answers_503(long_served) -> None:
    import httpx

    from mathwright.models.serve import ServeLimits, build_app

    app, _ = long_served
    model = app.state.engine.model
    from mathwright.models.hf import HFModel

    tiny = build_app(HFModel(model, app.state.engine.tok, name="q"), "q", ServeLimits(max_queue=1))
    with serving(tiny) as url:
        with httpx.stream("POST", url + "/v1/completions", json={**LONG, "stream": True}, timeout=30) as s:
            lines = s.iter_lines()  # held: a dropped iterator closes the response, and the server cancels
            assert next(lines).startswith("data: ")
            r = httpx.post(url + "/v1/completions", json={"prompt": "1", "max_tokens": 2}, timeout=10)
            assert r.status_code == 503 and r.headers["retry-after"] == "1"
            assert r.json()["error"]["code"] == "queue_full"
        ok = lambda: httpx.post(url + "/v1/completions", json={"prompt": "1", "max_tokens": 2}, timeout=10).status_code == 200  # noqa: E731
        assert _wait(ok, 5)


@pytest.mark.slow
def test_the_token_budget_makes_big_requests_wait_not_crowd(long_served) -> None:
    import httpx

    from mathwright.models.hf import HFModel
    from mathwright.models.serve import ServeLimits, build_app

    app, _ = long_served
    eng = app.state.engine
    budget_app = build_app(HFModel(eng.model, eng.tok, name="b"), "b", ServeLimits(max_batch_tokens=25000))
    with serving(budget_app) as url:
        url += "/v1/completions"
        r = httpx.post(url, json={"prompt": "1", "max_tokens": 26000}, timeout=10)
        assert r.status_code == 400 and r.json()["error"]["code"] == "too_many_tokens"
        got: dict[str, float] = {}
        with httpx.stream("POST", url, json={**LONG, "max_tokens": 20000, "stream": True}, timeout=30) as a:
            a_lines = a.iter_lines()
            assert next(a_lines).startswith("data: ")

            def second() -> None:  # 20005 + 6002 tokens > 25000: waits for the first
                with httpx.stream("POST", url, json={**LONG, "max_tokens": 6000, "stream": True}, timeout=30) as b:
                    next(b.iter_lines())
                    got["b"] = time.monotonic()

            t = threading.Thread(target=second)
            t.start()
            time.sleep(1.0)
            assert "b" not in got
            t0 = time.monotonic()
            r = httpx.post(url, json={"prompt": "2+2=", "max_tokens": 4}, timeout=10)  # small: fits beside
            assert r.status_code == 200 and time.monotonic() - t0 < 3
            closed = time.monotonic()
        t.join(timeout=10)
        assert "b" in got and got["b"] - closed < 3  # admitted once the first one was gone


@pytest.mark.slow
def test_bad_requests_get_400_with_an_openai_error(served) -> None:
    import httpx

    _, base, _ = served
    url = base + "/completions"

    def post(**kw: object) -> httpx.Response:
        return httpx.post(url, timeout=30, **kw)

    cases = {
        "max_tokens over the context": dict(json={"prompt": "1+1=", "max_tokens": 5000}),
        "prompt + max_tokens over the context": dict(json={"prompt": "1+1=", "max_tokens": 2046}),
        "prompt over the context": dict(json={"prompt": "7" * 3000, "max_tokens": 1}),
        "invalid UTF-8": dict(content=b'{"prompt": "\xff\xfe", "max_tokens": 2}',
                              headers={"content-type": "application/json"}),
        "invalid JSON": dict(content=b'{"prompt": ', headers={"content-type": "application/json"}),
        "not an object": dict(json=["1+1="]),
        "string max_tokens": dict(json={"prompt": "x", "max_tokens": "5"}),
        "numeric prompt": dict(json={"prompt": 5}),
        "bool temperature": dict(json={"prompt": "x", "temperature": True}),
        "string stream": dict(json={"prompt": "x", "stream": "yes"}),
        "negative seed": dict(json={"prompt": "x", "seed": -1}),
        "temperature out of range": dict(json={"prompt": "x", "temperature": 5}),
        "no prompt": dict(json={"max_tokens": 3}),
        "empty prompt list": dict(json={"prompt": []}),
        "too many choices": dict(json={"prompt": ["a"] * 10, "n": 100}),
    }
    for what, kw in cases.items():
        r = post(**kw)
        assert r.status_code == 400, (what, r.status_code, r.text)
        err = r.json()["error"]
        assert err["type"] == "invalid_request_error" and err["message"], (what, err)
    assert post(**cases["prompt + max_tokens over the context"]).json()["error"]["code"] == "context_length_exceeded"
    r = httpx.post(base + "/chat/completions", json={"messages": "hi"}, timeout=30)
    assert r.status_code == 400 and r.json()["error"]["param"] == "messages"

    # body size: 413 from the declared length and from a chunked body with none
    big = b'{"prompt": "' + b"1" * (5 << 20) + b'"}'
    assert post(content=big, headers={"content-type": "application/json"}).status_code == 413
    assert post(content=iter([big[i:i + 65536] for i in range(0, len(big), 65536)])).status_code == 413
    assert post(json={"prompt": "1+1=", "max_tokens": 3}).status_code == 200  # and the server is still fine


@pytest.mark.slow
def test_a_fresh_seed_per_request_unless_one_is_sent(served) -> None:
    import httpx

    _, base, _ = served

    def text(**kw: object) -> str:
        body = {"prompt": "1+1=", "max_tokens": 12, "temperature": 1.0, **kw}
        return httpx.post(base + "/completions", json=body, timeout=30).json()["choices"][0]["text"]

    assert len({text() for _ in range(3)}) == 3
    assert len({text(seed=7) for _ in range(3)}) == 1


def test_serve_refuses_a_bad_port_in_one_line() -> None:
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "mathwright", "serve", "tiny-100k", "--port", "99999"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0
    assert "--port" in r.stderr and "99999" in r.stderr


def test_serve_refuses_a_port_in_use() -> None:
    from typer.testing import CliRunner

    from mathwright.cli import app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        res = CliRunner().invoke(app, ["serve", "tiny-100k", "--port", str(s.getsockname()[1])])
    assert res.exit_code == 2 and "cannot listen on 127.0.0.1" in res.output


class _Echo:
    """A non-transformers backend: completions are the prompt reversed (``stream`` optional)."""

    name, context_length = "echo", 64

    def __init__(self, streams: bool) -> None:
        if streams:
            self.stream = lambda prompt, cfg: iter(prompt[::-1][: cfg.max_new_tokens])

    def generate(self, prompts, cfg):
        return [[p[::-1][: cfg.max_new_tokens]] * cfg.n for p in prompts]

    def tokens(self, text: str) -> int:
        return len(text)


@pytest.mark.slow
def test_any_backend_is_served_through_the_model_interface() -> None:
    import httpx
    from openai import OpenAI

    from mathwright.models.serve import build_app

    for streams in (False, True):
        with serving(build_app(_Echo(streams), "echo")) as url:
            client = OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=30)
            r = client.completions.create(model="echo", prompt="abcdef", max_tokens=4, n=2)
            assert [c.text for c in r.choices] == ["fedc", "fedc"] and r.choices[0].finish_reason == "length"
            chunks = list(client.completions.create(model="echo", prompt="abcdef", max_tokens=10, stream=True))
            pieces = [c.choices[0].text for c in chunks if c.choices and c.choices[0].text]
            assert "".join(pieces) == "fedcba" and len(pieces) == (6 if streams else 1)
            assert chunks[-1].choices[0].finish_reason == "stop"
            over = httpx.post(url + "/v1/completions", json={"prompt": "x" * 60, "max_tokens": 10}, timeout=10)
            assert over.status_code == 400 and over.json()["error"]["code"] == "context_length_exceeded"
