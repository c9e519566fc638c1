"""Optional wording polish of reasoning traces by an external LLM, checked before it is kept.

Off by default. With ``--polish-endpoint`` (any OpenAI-compatible ``/chat/completions`` server)
each trace is sent for rewording; the result is kept only if it still quotes every timestamp in
the same order, names every object, card, file, cup and number the original names, and ends with
the original ``Answer:`` line. Otherwise the metadata-built trace stays. Either way the record's
``meta["reasoning_polish"]`` says what happened, so a polished dataset remains auditable.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from videolake import VideolakeError
from videolake.generators.synthetic.qa import trace_timestamps

INSTRUCTION = (
    "Rewrite this step-by-step reasoning about a video so it reads naturally, as a person watching "
    "the video would think. Keep every timestamp (mm:ss.s) in the same order, every object, card, "
    "file and cup name, every number, and keep the last line 'Answer: ...' exactly. Reply with the "
    "rewritten reasoning only."
)


@dataclass(frozen=True)
class Polisher:
    endpoint: str  # base URL without credentials, e.g. http://localhost:8000/v1
    model: str
    timeout: float = 60.0
    basic_auth: str | None = field(default=None, repr=False)  # from user:password@ in the URL; never recorded

    @classmethod
    def from_url(cls, url: str, model: str) -> Polisher:
        """Credentials written into the URL go to an Authorization header and nowhere else."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise VideolakeError(f"--polish-endpoint must be an http(s) URL, got {strip_credentials(url)!r}")
        auth = None
        if parts.username is not None:
            user_password = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
            auth = base64.b64encode(user_password.encode()).decode()
        return cls(strip_credentials(url), model, basic_auth=auth)

    def describe(self) -> dict:
        return {"endpoint": self.endpoint, "model": self.model}

    def reword(self, trace: str) -> str:
        body = json.dumps(
            {
                "model": self.model,
                "temperature": 0,
                "messages": [{"role": "system", "content": INSTRUCTION}, {"role": "user", "content": trace}],
            }
        ).encode()
        headers = {"Content-Type": "application/json"}
        if os.environ.get("VIDEOLAKE_POLISH_API_KEY"):
            headers["Authorization"] = f"Bearer {os.environ['VIDEOLAKE_POLISH_API_KEY']}"
        elif self.basic_auth:
            headers["Authorization"] = f"Basic {self.basic_auth}"
        request = urllib.request.Request(self.endpoint.rstrip("/") + "/chat/completions", data=body, headers=headers)
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return json.loads(response.read())["choices"][0]["message"]["content"].strip()


def strip_credentials(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def check_polish(original: str, polished: str, facts: Callable[[str], set[str]]) -> str | None:
    """Why ``polished`` loses something of ``original``; None when it keeps everything. ``facts``
    is the task's own reader of what a trace states (its names and numbers)."""
    if trace_timestamps(polished) != trace_timestamps(original):
        return "timestamps changed or reordered"
    missing = facts(original) - facts(polished)
    if missing:
        return f"dropped {', '.join(sorted(missing)[:3])}"
    if polished.splitlines()[-1:] != original.splitlines()[-1:]:
        return "the final Answer line changed"
    return None


REQUEST_FAILED = "request failed"


def outcome(audit: dict) -> str:
    """kept, rejected (the rewording lost a fact) or request_failed."""
    if audit["kept"]:
        return "kept"
    return "request_failed" if audit["reason"].startswith(REQUEST_FAILED) else "rejected"


def polish(trace: str, polisher: Polisher, facts: Callable[[str], set[str]]) -> tuple[str, dict]:
    """(trace to store, audit record); a failed call or check keeps the original trace."""
    try:
        candidate = polisher.reword(trace)
    except (urllib.error.URLError, TimeoutError, OSError, KeyError, IndexError, ValueError) as err:
        return trace, {**polisher.describe(), "kept": False, "reason": f"{REQUEST_FAILED}: {err}"}
    problem = check_polish(trace, candidate, facts)
    if problem:
        return trace, {**polisher.describe(), "kept": False, "reason": problem}
    return candidate, {**polisher.describe(), "kept": True}
