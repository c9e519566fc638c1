"""The optional LLM polish: kept only when every fact survives; tested against a local fake server."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest
import yaml

from tests.helpers.cli import assert_one_line_error, run_cli
from videolake.commands.validate import validate
from videolake.generators import synthetic
from videolake.pipeline.graph import build
from videolake.pipeline.polish import Polisher, check_polish, polish
from videolake.pipeline.recipes import load_recipe
from videolake.pipeline.shards import read_shard

FACTS = synthetic.trace_facts


def trace(name="grid_shell", seed=0) -> str:
    return synthetic.generate(None, name, {}, np.random.default_rng(seed)).reasoning


def friendlier(text: str) -> str:
    """A faithful rewording: same facts, different connecting words."""
    lines = text.splitlines()
    return "\n".join(
        ["Let me watch carefully."] + [line.replace("I note", "I write down") for line in lines[:-1]] + lines[-1:]
    )


def test_check_accepts_faithful_rewording_and_names_what_a_bad_one_loses():
    original = trace()
    assert check_polish(original, friendlier(original), FACTS) is None
    lines = original.splitlines()
    last_timed = max(i for i, line in enumerate(lines) if line.startswith("At "))
    assert (
        check_polish(original, "\n".join(line for i, line in enumerate(lines) if i != last_timed), FACTS)
        == "timestamps changed or reordered"
    )
    assert (
        check_polish(
            original, original.replace("a1", "a2").replace("b1", "b2").replace("c1", "c2").replace("d1", "d2"), FACTS
        )
        is not None
    )
    assert check_polish(original, original.rsplit("\n", 1)[0] + "\nAnswer: Z", FACTS) == "the final Answer line changed"
    cards = trace("card_pile", 1)
    assert check_polish(
        cards, cards.replace(" of Spades", " of Shovels").replace(" of Hearts", " of Shovels"), FACTS
    ).startswith("dropped")


class FakeLLM(BaseHTTPRequestHandler):
    mode = "faithful"
    authorization: list = []

    def do_POST(self):
        FakeLLM.authorization.append(self.headers.get("Authorization"))
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        original = body["messages"][-1]["content"]
        content = friendlier(original) if FakeLLM.mode == "faithful" else "The answer is obvious.\nAnswer: A"
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = HTTPServer(("127.0.0.1", 0), FakeLLM)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_polish_keeps_faithful_and_rejects_unfaithful(server):
    original = trace("card_pile", 1)
    FakeLLM.mode = "faithful"
    kept, audit = polish(original, Polisher(server, "fake"), FACTS)
    assert kept == friendlier(original) and audit["kept"] is True
    FakeLLM.mode = "careless"
    kept, audit = polish(original, Polisher(server, "fake"), FACTS)
    assert kept == original and audit["kept"] is False and "timestamps" in audit["reason"]


def test_unreachable_endpoint_keeps_the_original():
    original = trace()
    kept, audit = polish(original, Polisher("http://127.0.0.1:9/v1", "fake", timeout=2), FACTS)
    assert kept == original and audit["kept"] is False and audit["reason"].startswith("request failed")


def test_build_with_polish_records_the_audit_and_validates(server, tmp_path):
    FakeLLM.mode = "faithful"
    recipe = {
        "name": "polished",
        "splits": {"train": [{"task": "synrl", "subtype": "chip_cups", "count": 2, "params": {"size": 64}}]},
    }
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(recipe))
    out = build(
        load_recipe(str(tmp_path / "r.yaml")),
        None,
        tmp_path / "out",
        workers=1,
        progress=False,
        polisher=Polisher(server, "fake"),
    )
    assert validate(out) == (2, [])
    rows = read_shard(next((out / "train").glob("*.arrow"))).to_pylist()
    for row in rows:
        assert row["reasoning"].startswith("Let me watch carefully.")
        assert json.loads(row["meta"])["reasoning_polish"] == {"endpoint": server, "model": "fake", "kept": True}


RECIPE = {
    "name": "polished",
    "splits": {"train": [{"task": "synrl", "subtype": "chip_cups", "count": 2, "params": {"size": 64}}]},
}


def test_credentials_in_the_endpoint_go_to_a_header_and_nowhere_else(server, tmp_path):
    FakeLLM.mode, FakeLLM.authorization = "faithful", []
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(RECIPE))
    with_password = server.replace("http://", "http://user:s3cret@")
    polisher = Polisher.from_url(with_password, "fake")
    assert "s3cret" not in repr(polisher) and polisher.describe()["endpoint"] == server
    out = build(
        load_recipe(str(tmp_path / "r.yaml")), None, tmp_path / "out", workers=1, progress=False, polisher=polisher
    )
    assert FakeLLM.authorization == ["Basic " + base64.b64encode(b"user:s3cret").decode()] * 2
    written = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert b"s3cret" not in written and b"user:" not in written


def test_every_failed_request_is_said_on_the_console_and_in_the_report(tmp_path):
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(RECIPE))
    result = run_cli(
        "build",
        tmp_path / "r.yaml",
        "--out",
        tmp_path / "out",
        "--workers",
        "1",
        "--quiet",
        "--polish-endpoint",
        "http://127.0.0.1:9/v1",
        "--polish-model",
        "fake",
    )
    assert_one_line_error(result, "every one of 2 polish requests to http://127.0.0.1:9/v1 failed")
    assert "polish: 0 kept, 0 rejected by the check, 2 requests failed" in result.stdout
    report = json.loads((tmp_path / "out" / "polished" / "build_report.json").read_text())
    assert report["polish"] == {"request_failed": 2}
