"""Reading a page whose JSON does not parse as a whole, record by record.

One bad record (cut-off text, 3,000 nested arrays that exhaust the parser's recursion) used to
make the whole page, and so every run of the entity, fail. `decode_records` walks the top-level
array: each element is decoded on its own, and an element that does not decode becomes an
`UnparsableRecord` (with its id when the text starts with one) so the caller can skip and count
it while the rest of the page goes through.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from psa.errors import PSAError

_DECODER = json.JSONDecoder()
_LEADING_ID = re.compile(r'\{\s*"id"\s*:\s*(\d{1,18})\s*[,}]')
_OPENERS, _CLOSERS = "[{", "]}"


@dataclass(frozen=True)
class UnparsableRecord:
    """An element of a listing page that is not valid JSON (or too deep to decode)."""

    psa_id: int | None
    error: str


def _skip_whitespace(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\n\r":
        pos += 1
    return pos


def _element_end(text: str, pos: int) -> int:
    """Where the element starting at `pos` ends: the `,` or `]` that follows it at depth 0
    (strings and escapes respected, brackets counted without recursion)."""
    depth, in_string, escaped = 0, False, False
    for index in range(pos, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in _OPENERS:
            depth += 1
        elif char in _CLOSERS:
            if depth == 0:
                return index
            depth -= 1
        elif char == "," and depth == 0:
            return index
    return len(text)


def _decode_one(text: str, pos: int) -> tuple[object, int]:
    try:
        return _DECODER.raw_decode(text, pos)
    except (ValueError, RecursionError) as err:
        end = _element_end(text, pos)
        found = _LEADING_ID.match(text, pos)
        reason = f"{type(err).__name__}: {str(err)[:120]}"
        return UnparsableRecord(int(found.group(1)) if found else None, reason), end


def decode_records(text: str) -> list:
    """The elements of a top-level JSON array; unparsable ones as UnparsableRecord.

    Raises ValueError when the text is not an array at all."""
    pos = _skip_whitespace(text, 0)
    if not text.startswith("[", pos):
        raise ValueError("the answer is not a JSON array")
    records: list = []
    pos = _skip_whitespace(text, pos + 1)
    if text.startswith("]", pos):
        return records
    while pos < len(text):
        record, pos = _decode_one(text, pos)
        records.append(record)
        pos = _skip_whitespace(text, pos)
        if text.startswith(",", pos):
            pos = _skip_whitespace(text, pos + 1)
        elif text.startswith("]", pos):
            return records
        else:
            break
    raise ValueError("the JSON array is cut off")


def refuse_unparsable(page: list, path: str) -> None:
    """PSAError when the page holds an UnparsableRecord (for callers that index every record)."""
    bad = [record for record in page if isinstance(record, UnparsableRecord)]
    if bad:
        raise PSAError(
            f"{len(bad)} record(s) of the page do not decode (first: id {bad[0].psa_id}, {bad[0].error})",
            url=path,
        )
