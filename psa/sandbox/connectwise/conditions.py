"""The ConnectWise `conditions` grammar, compiled once per request into a Python predicate.

Reference: developer guide, "Query String Parameters" / "Conditions" / "Escaping Characters":
strings in double quotes (`\\"` and `\\\\` escapes; `*` or `%` is the `like` wildcard), integers and
decimals bare, booleans True/False, null, datetimes in square brackets, operators
=, !=, <, <=, >, >=, contains, like, in, not (also `not contains`, `not like`, `not in`),
logic and/or with parentheses, references by path (`board/id`). Keywords and field names are
case-insensitive and string comparisons ignore case, like the SQL Server collation behind
ConnectWise. A comparison with null on either side is false, except `= null` / `!= null`.

Grammar (recursive descent):
    expr       := and_expr ("or" and_expr)*
    and_expr   := unary ("and" unary)*
    unary      := "not" unary | "(" expr ")" | comparison
    comparison := PATH ["not"] OP value | PATH ["not"] "in" "(" value ("," value)* ")"
    value      := STRING | NUMBER | True | False | null | [DATETIME]
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Predicate = Callable[[dict], bool]
Getter = Callable[[dict], Any]


class ConditionError(ValueError):
    """The condition string cannot be parsed or names an unknown field (answered with 400)."""


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<datetime>\[[^\]]*\])
    | (?P<op><=|>=|!=|<>|=|<|>)
    | (?P<punct>[(),])
    | (?P<number>-?\d+(?:\.\d+)?(?![A-Za-z_/]))
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*)
    )""",
    re.VERBOSE,
)
_WORD_OPS = {"contains", "like", "in"}


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    text = text.rstrip()
    position, end = 0, len(text)
    while position < end:
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ConditionError(
                f"unexpected character {text[position:].lstrip()[:1]!r} at position {position}"
            )
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _unescape(quoted: str) -> str:
    body = quoted[1:-1]
    return re.sub(r"\\(.)", lambda m: {"t": "\t"}.get(m.group(1), m.group(1)), body)


def canonical_datetime(text: str) -> str:
    """`2026-01-02T03:04:05Z` (the form records carry) from any ISO-8601 form; ValueError if not one."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Parser:
    def __init__(self, text: str, getter_for: Callable[[str], Getter]) -> None:
        self.tokens = _tokenize(text)
        self.index = 0
        self.getter_for = getter_for

    # --- token helpers ---
    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def peek_word(self) -> str | None:
        token = self.peek()
        return token[1].lower() if token and token[0] == "word" else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ConditionError("the condition ends too early")
        self.index += 1
        return token

    def expect_punct(self, char: str) -> None:
        kind, value = self.take()
        if kind != "punct" or value != char:
            raise ConditionError(f"expected {char!r}, found {value!r}")

    # --- grammar ---
    def parse(self) -> Predicate:
        if not self.tokens:
            raise ConditionError("the condition is empty")
        predicate = self.expr()
        if (extra := self.peek()) is not None:
            raise ConditionError(f"unexpected {extra[1]!r} after a complete condition")
        return predicate

    def expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.peek_word() == "or":
            self.take()
            parts.append(self.and_expr())
        if len(parts) == 1:
            return parts[0]
        return lambda record: any(part(record) for part in parts)

    def and_expr(self) -> Predicate:
        parts = [self.unary()]
        while self.peek_word() == "and":
            self.take()
            parts.append(self.unary())
        if len(parts) == 1:
            return parts[0]
        return lambda record: all(part(record) for part in parts)

    def unary(self) -> Predicate:
        if self.peek_word() == "not":
            self.take()
            inner = self.unary()
            return lambda record: not inner(record)
        token = self.peek()
        if token and token == ("punct", "("):
            self.take()
            inner = self.expr()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        kind, path = self.take()
        if kind != "word" or path.lower() in {"and", "or", "not", "true", "false", "null", *_WORD_OPS}:
            raise ConditionError(f"expected a field name, found {path!r}")
        getter = self.getter_for(path)
        negate = False
        if self.peek_word() == "not":
            self.take()
            negate = True
        kind, op = self.take()
        op = op.lower()
        if kind == "word" and op in _WORD_OPS:
            if op == "in":
                predicate = _in(getter, self.value_list())
            else:
                predicate = _text_match(getter, op, self.value())
        elif kind == "op" and not negate:
            predicate = _compare(getter, "!=" if op == "<>" else op, self.value())
        else:
            raise ConditionError(f"expected an operator after {path!r}, found {op!r}")
        if negate:
            positive = predicate
            return lambda record: not positive(record)
        return predicate

    def value_list(self) -> list[Any]:
        self.expect_punct("(")
        values = [self.value()]
        while self.peek() == ("punct", ","):
            self.take()
            values.append(self.value())
        self.expect_punct(")")
        return values

    def value(self) -> Any:
        kind, raw = self.take()
        if kind == "string":
            return _unescape(raw)
        if kind == "number":
            return float(raw) if "." in raw else int(raw)
        if kind == "datetime":
            try:
                return _Datetime(canonical_datetime(raw[1:-1]))
            except ValueError:
                raise ConditionError(f"{raw} is not a valid datetime") from None
        if kind == "word" and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        if kind == "word" and raw.lower() == "null":
            return None
        raise ConditionError(f"expected a value, found {raw!r}")


class _Datetime(str):
    """A datetime literal in canonical form; compared as text with the record's value."""


def _comparable(field_value: Any, literal: Any) -> tuple[Any, Any] | None:
    """Both sides in one comparable type, or None when they cannot be compared."""
    if isinstance(literal, _Datetime):
        if not isinstance(field_value, str):
            return None
        if len(field_value) == 10:  # a date-only field ("2026-12-25")
            return field_value, literal[:10]
        return field_value, str(literal)
    if isinstance(literal, bool):
        return (field_value, literal) if isinstance(field_value, bool) else None
    if isinstance(literal, int | float):
        if isinstance(field_value, bool) or not isinstance(field_value, int | float):
            return None
        return field_value, literal
    if isinstance(literal, str):
        if not isinstance(field_value, str):
            return (str(field_value).lower(), literal.lower()) if isinstance(field_value, int) else None
        return field_value.lower(), literal.lower()
    return None


_ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _compare(getter: Getter, op: str, literal: Any) -> Predicate:
    if literal is None:
        if op not in ("=", "!="):
            raise ConditionError(f"null can only be compared with = or !=, not {op}")
        wanted_null = op == "="
        return lambda record: (getter(record) is None) == wanted_null
    compare = _ORDER_OPS[op]

    def predicate(record: dict) -> bool:
        pair = _comparable(getter(record), literal)
        return pair is not None and compare(pair[0], pair[1])

    return predicate


def _text_match(getter: Getter, op: str, literal: Any) -> Predicate:
    if not isinstance(literal, str) or isinstance(literal, _Datetime):
        raise ConditionError(f"{op} needs a quoted string")
    needle = literal.lower()
    if op == "contains":
        return lambda record: isinstance(value := getter(record), str) and needle in value.lower()
    # ConnectWise hands `like` to SQL Server's LIKE after turning `*` into `%`: clients write
    # either (`summary like "%printer%"` is the common form), both match any run of characters.
    parts = re.split(r"[*%]", needle)
    pattern = re.compile(".*".join(re.escape(part) for part in parts), re.IGNORECASE | re.DOTALL)
    return lambda record: isinstance(value := getter(record), str) and pattern.fullmatch(value) is not None


def _in(getter: Getter, literals: list[Any]) -> Predicate:
    plain = {
        (v.lower() if isinstance(v, str) else v)
        for v in literals
        if not isinstance(v, bool) and v is not None
    }
    flags = [v for v in literals if isinstance(v, bool)]
    has_null = any(v is None for v in literals)

    def predicate(record: dict) -> bool:
        value = getter(record)
        if value is None:
            return has_null
        if isinstance(value, bool):
            return value in flags
        if isinstance(value, str):
            return value.lower() in plain
        return value in plain or (isinstance(value, int) and str(value) in plain)

    return predicate


def compile_conditions(text: str | None, getter_for: Callable[[str], Getter]) -> Predicate | None:
    """A predicate for `text` (None for no condition). `getter_for(path)` returns a function
    reading that field path from a record and raises ConditionError for unknown fields."""
    if text is None or not text.strip():
        return None
    return _Parser(text, getter_for).parse()
