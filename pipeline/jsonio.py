"""Reading the JSON a user hands a command (predictions, rollouts, id lists): every way it can be
wrong is one ``VideolakeError`` naming the file and line, never a traceback.

``json.loads`` alone raises RecursionError on ``[`` nested 10**5 deep, ValueError on an integer of
more than 4300 digits, and reading a line never ends on a file without newlines (``/dev/zero``):
lines are read with a bound and parsed here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from videolake import VideolakeError

MAX_LINE_BYTES = 64 << 20  # far above any completion; a line this long is not a prediction
BYTE_ORDER_MARK = "\ufeff"


def json_type(value) -> str:
    """The JSON name of a parsed value's type, for messages."""
    names = {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }
    return names[type(value)]


def refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str, where: str):
    """``json.loads`` (strict: no NaN or Infinity), every failure a one-line error naming ``where``."""
    try:
        return json.loads(text, parse_constant=refuse_constant)
    except RecursionError as err:
        raise VideolakeError(f"{where}: not valid JSON (nested too deeply)") from err
    except ValueError as err:  # JSONDecodeError, an integer too long to convert, NaN
        raise VideolakeError(f"{where}: not valid JSON ({err})") from err


def jsonl_values(path: Path) -> Iterator[tuple[int, object]]:
    """(line number, value) of every non-blank line of a JSON Lines file; a file without any is an error."""
    found = False
    with open(path, "rb") as handle:
        for number, line in enumerate(iter(lambda: handle.readline(MAX_LINE_BYTES + 1), b""), 1):
            if len(line) > MAX_LINE_BYTES:
                raise VideolakeError(f"{path}:{number}: line longer than {MAX_LINE_BYTES >> 20} MiB")
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as err:
                raise VideolakeError(f"{path}:{number}: not UTF-8 text ({err.reason} at byte {err.start})") from err
            if number == 1:
                text = text.removeprefix(BYTE_ORDER_MARK)
            if text.strip():
                found = True
                yield number, parse_json(text, f"{path}:{number}")
    if not found:
        raise VideolakeError(f"{path}: no JSON lines (the file is empty)")


def id_lines(path: Path, field: str) -> Iterator[tuple[int, str, str]]:
    """(line number, id, text) of each ``{"id": "...", field: ...}`` line; a value that is not a
    string is kept as its JSON text."""
    for number, row in jsonl_values(path):
        if not isinstance(row, dict):
            raise VideolakeError(f'{path}:{number}: expected {{"id": ..., "{field}": ...}}, got {json_type(row)}')
        missing = [key for key in ("id", field) if key not in row]
        if missing:
            raise VideolakeError(f'{path}:{number}: expected {{"id": ..., "{field}": ...}}, "{missing[0]}" is missing')
        if not isinstance(row["id"], str):
            raise VideolakeError(f"{path}:{number}: id must be a string, got {json_type(row['id'])}")
        value = row[field]
        if not isinstance(value, str):
            try:
                value = json.dumps(value)
            except RecursionError as err:  # parsed just under the stack limit, too deep to write back
                raise VideolakeError(f"{path}:{number}: {field} nested too deeply") from err
        yield number, row["id"], value
