"""The NGSI-LD Query Language `q` (ETSI GS CIM 009 clause 4.9): text -> AST and back.

Grammar as clause 4.9 gives it, with the precedence it states: `;` (AND) binds tighter than
`|` (OR); parentheses group and may nest (the ABNF shows one level, its example 6 two).
Attribute paths: `attr`, `attr.sub.sub2` (sub-attributes, or an instance member such as
`observedAt` last), `attr[key.key2]` (a trailing path into a compound value), `name[en]` /
`name[*]` (language filters on a LanguageProperty, clause 4.9 "Equal operator").

Values: JSON numbers, JSON strings in double quotes (JSON escapes), `true`/`false`, DateTime
/ Date / Time (clause 4.6.3), URIs (unquoted, only with `==`/`!=`), ranges `a..b`, value
lists `a,b,c`. Two extensions that common brokers accept and clause 4.9 does not forbid
in practice: `!attr` (the entity lacks the attribute) and an unquoted bare word
(`gender==Male`, clause 4.9 example 12) read as a string. Linked-entity paths
(`sensor{humidity}`, clause 4.5.23) are refused as not supported.

The pattern of `~=`/`!~=` is either a JSON string or raw text up to the first `;` or `|`
outside parentheses and brackets (so `name~=a(b|c)` works; write `name~="a|b"` for a
top-level alternation). It is compiled here, so a bad pattern is a 400, not a 500.
"""

from __future__ import annotations

import math
import re
from datetime import date

import orjson

from broker.errors import BadRequestData, OperationNotSupported
from broker.model.validate import normalize_datetime
from broker.query.ast import (
    And,
    AttrPath,
    Comparison,
    Exists,
    Operator,
    Or,
    Q,
    Range,
    Value,
    ValueList,
)
from broker.query.patterns import PatternError, compile_pattern
from broker.query.syntax import Cursor, check_length

DEFAULT_MAX_LENGTH = 4096
DEFAULT_MAX_DEPTH = 16
DEFAULT_MAX_REGEX_LENGTH = 256

ORDERING_OPS = frozenset({"<", "<=", ">", ">="})
EQUALITY_OPS = frozenset({"==", "!="})
PATTERN_OPS = frozenset({"~=", "!~="})
COMPARABLE_KINDS = frozenset({"number", "string", "datetime", "date", "time"})

# Longest first, so `!~=` is not read as `!` and `>=` not as `>`.
_OPERATORS: tuple[Operator, ...] = ("==", "!=", "!~=", "~=", ">=", "<=", ">", "<")
_TERM_END = frozenset(";|)")
_VALUE_END = frozenset(";|),")

_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[.,]\d{1,6})?Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"(\d{2}):(\d{2}):(\d{2})(?:[.,]\d{1,6})?Z?")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`;,)]+\Z")
_BARE = re.compile(r"[^;|,()\"\s]+")


def _is_name_start(ch: str) -> bool:
    return ch.isalpha()


def _is_name_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _is_key_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_-:@$"


def is_plain_name(text: str) -> bool:
    """Clause 4.9 `AttrName = unicodeLetter *TermChar`."""
    return bool(text) and _is_name_start(text[0]) and all(_is_name_char(c) for c in text[1:])


def parse_q(
    text: str,
    *,
    field: str = "q",
    max_length: int = DEFAULT_MAX_LENGTH,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_regex_length: int = DEFAULT_MAX_REGEX_LENGTH,
) -> Q:
    """Parse a (URL-decoded) `q` string into its AST; names stay as written (terms)."""
    check_length(text, field, max_length)
    return _QParser(text, field, max_depth, max_regex_length).query()


class _QParser:
    __slots__ = ("cur", "max_depth", "max_regex_length")

    def __init__(self, text: str, field: str, max_depth: int, max_regex_length: int) -> None:
        self.cur = Cursor(text, field)
        self.max_depth = max_depth
        self.max_regex_length = max_regex_length

    def query(self) -> Q:
        node = self.disjunction(0)
        if not self.cur.at_end():
            if self.cur.peek() == ")":
                self.cur.fail("unbalanced ')'")
            self.cur.fail("expected ';', '|' or the end")
        return node

    def disjunction(self, depth: int) -> Q:
        terms = [self.conjunction(depth)]
        while self.cur.take("|"):
            terms.append(self.conjunction(depth))
        return terms[0] if len(terms) == 1 else Or(tuple(terms))

    def conjunction(self, depth: int) -> Q:
        terms = [self.term(depth)]
        while self.cur.take(";"):
            terms.append(self.term(depth))
        return terms[0] if len(terms) == 1 else And(tuple(terms))

    def term(self, depth: int) -> Q:
        cur = self.cur
        if cur.take("("):
            if depth + 1 > self.max_depth:
                cur.fail(f"parentheses nested deeper than {self.max_depth}", cur.pos - 1)
            node = self.disjunction(depth + 1)
            cur.expect(")", "')' or a logical operator")
            return node
        if cur.take("!"):
            return Exists(self.path(), negated=True)
        path = self.path()
        if cur.at_end() or cur.peek() in _TERM_END:
            return Exists(path)
        op_pos = cur.pos
        op = self.operator()
        if op in PATTERN_OPS:
            return Comparison(path, op, self.pattern())
        value = self.operand()
        if op in ORDERING_OPS:
            if not isinstance(value, Value):
                cur.fail(f"a range or a list of values needs == or !=, not {op}", op_pos)
            if value.kind not in COMPARABLE_KINDS:
                cur.fail(f"a {value.kind} can only be compared with == or !=", op_pos)
        return Comparison(path, op, value)

    # -- attribute paths -------------------------------------------------------------------

    def name(self, what: str = "an attribute name") -> str:
        cur, text = self.cur, self.cur.text
        start = cur.pos
        if start >= len(text) or not _is_name_start(text[start]):
            cur.fail(f"expected {what}")
        end = start + 1
        while end < len(text) and _is_name_char(text[end]):
            end += 1
        # a compact IRI `prefix:name` (clause 4.6.2)
        if end + 1 < len(text) and text[end] == ":" and _is_name_start(text[end + 1]):
            end += 2
            while end < len(text) and _is_name_char(text[end]):
                end += 1
        cur.pos = end
        return text[start:end]

    def path(self) -> AttrPath:
        cur = self.cur
        attr = self.name()
        sub: list[str] = []
        while cur.peek() == "." and cur.peek(2) != "..":
            cur.pos += 1
            sub.append(self.name("a sub-attribute name"))
        if cur.peek() == "{":
            raise OperationNotSupported(
                f"{cur.field}: linked-entity paths ('{{...}}', clause 4.5.23) are not supported",
                field=cur.field,
            )
        if not cur.take("["):
            return AttrPath(attr, tuple(sub))
        if cur.take("*"):
            cur.expect("]")
            return AttrPath(attr, tuple(sub), lang="*")
        keys = [self.key()]
        while cur.take("."):
            keys.append(self.key())
        cur.expect("]", "'.' or ']'")
        return AttrPath(attr, tuple(sub), tuple(keys))

    def key(self) -> str:
        cur, text = self.cur, self.cur.text
        start = end = cur.pos
        while end < len(text) and _is_key_char(text[end]):
            end += 1
        if end == start:
            cur.fail("expected a member name")
        cur.pos = end
        return text[start:end]

    def operator(self) -> Operator:
        for op in _OPERATORS:
            if self.cur.take(op):
                return op
        self.cur.fail("expected an operator")

    # -- values ------------------------------------------------------------------------------

    def operand(self) -> Value | Range | ValueList:
        cur = self.cur
        start = cur.pos
        first = self.value()
        if cur.take(".."):
            high = self.value()
            for end in (first, high):
                if end.kind not in COMPARABLE_KINDS:
                    cur.fail(
                        f"a range needs numbers, strings or temporal values, not a {end.kind}",
                        start,
                    )
            if first.kind != high.kind:
                cur.fail(f"a range from a {first.kind} to a {high.kind}", start)
            return Range(first, high)
        if cur.peek() != ",":
            return first
        items = [first]
        while cur.take(","):
            items.append(self.value())
        return ValueList(tuple(items))

    def value(self) -> Value:
        cur, text = self.cur, self.cur.text
        pos = cur.pos
        if pos >= len(text):
            cur.fail("expected a value")
        if text[pos] == '"':
            return Value(self.quoted(), "string")
        for pattern, kind in ((_DATETIME, "datetime"), (_DATE, "date"), (_TIME, "time")):
            m = pattern.match(text, pos)
            if m and self._ends_value(m.end()):
                cur.pos = m.end()
                return self._temporal(m.group(), kind, pos)
        m = _NUMBER.match(text, pos)
        if m and self._ends_value(m.end()):
            cur.pos = m.end()
            if m.group(1) is None and m.group(2) is None:
                return Value(int(m.group()), "number")
            number = float(m.group())
            if not math.isfinite(number):
                cur.fail("number out of range", pos)
            return Value(number, "number")
        m = _BARE.match(text, pos)
        if m is None:
            cur.fail("expected a value")
        token = m.group()
        if ".." in token:
            token = token[: token.index("..")]
        cur.pos = pos + len(token)
        if token in ("true", "false"):
            return Value(token == "true", "boolean")
        if _URI.match(token):
            return Value(token, "uri")
        if is_plain_name(token):
            return Value(token, "string")
        cur.fail("expected a value (a number, a quoted string, true, false, a date or a URI)", pos)

    def _ends_value(self, end: int) -> bool:
        text = self.cur.text
        return end >= len(text) or text[end] in _VALUE_END or text.startswith("..", end)

    def _temporal(self, token: str, kind: str, pos: int) -> Value:
        if kind == "datetime":
            normalized = normalize_datetime(token)
            if normalized is None:
                self.cur.fail(f"{token!r} is not a valid DateTime", pos)
            return Value(normalized, "datetime")
        if kind == "date":
            try:
                date.fromisoformat(token)
            except ValueError:
                self.cur.fail(f"{token!r} is not a valid Date", pos)
            return Value(token, "date")
        m = _TIME.fullmatch(token)
        assert m is not None
        if int(m.group(1)) > 23 or int(m.group(2)) > 59 or int(m.group(3)) > 59:
            self.cur.fail(f"{token!r} is not a valid Time", pos)
        return Value(token.replace(",", "."), "time")

    def quoted(self) -> str:
        cur, text = self.cur, self.cur.text
        start = cur.pos
        i = start + 1
        while i < len(text):
            ch = text[i]
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                try:
                    decoded = orjson.loads(text[start : i + 1])
                except orjson.JSONDecodeError:
                    cur.fail("invalid escape in a quoted string", start)
                cur.pos = i + 1
                assert isinstance(decoded, str)
                return decoded
            i += 1
        cur.fail("unterminated quoted string", start)

    def pattern(self) -> Value:
        cur, text = self.cur, self.cur.text
        start = cur.pos
        if cur.peek() == '"':
            pattern = self.quoted()
        else:
            depth = 0
            i = start
            while i < len(text):
                ch = text[i]
                if ch == "\\":
                    i += 2
                    continue
                if ch in "([":
                    depth += 1
                elif ch in ")]":
                    if depth == 0:
                        break
                    depth -= 1
                elif ch in ";|" and depth == 0:
                    break
                i += 1
            pattern = text[start:min(i, len(text))]
            cur.pos = min(i, len(text))
        if not pattern:
            cur.fail("expected a regular expression", start)
        if len(pattern) > self.max_regex_length:
            cur.fail(
                f"regular expression longer than {self.max_regex_length} characters", start
            )
        try:
            compile_pattern(pattern)
        except PatternError as exc:
            cur.fail(f"invalid regular expression ({exc.msg})", start)
        return Value(pattern, "string")


# -- back to text ------------------------------------------------------------------------------


def unparse(q: Q) -> str:
    """The `q` text of an AST; `parse_q(unparse(q)) == q` for every AST a parser can give."""
    if isinstance(q, Comparison):
        return unparse_path(q.path) + q.op + unparse_operand(q.value)
    if isinstance(q, Exists):
        return ("!" if q.negated else "") + unparse_path(q.path)
    if isinstance(q, And):
        return ";".join(
            f"({unparse(t)})" if isinstance(t, (And, Or)) else unparse(t) for t in q.terms
        )
    return "|".join(f"({unparse(t)})" if isinstance(t, Or) else unparse(t) for t in q.terms)


def unparse_path(path: AttrPath) -> str:
    text = ".".join((path.attr, *path.sub))
    if path.compound:
        text += "[" + ".".join(path.compound) + "]"
    elif path.lang is not None:
        text += f"[{path.lang}]"
    return text


def unparse_operand(value: Value | Range | ValueList) -> str:
    if isinstance(value, Range):
        return unparse_value(value.low) + ".." + unparse_value(value.high)
    if isinstance(value, ValueList):
        return ",".join(unparse_value(v) for v in value.items)
    return unparse_value(value)


def unparse_value(value: Value) -> str:
    v = value.value
    if value.kind == "string":
        return orjson.dumps(v).decode()
    if value.kind == "boolean":
        return "true" if v else "false"
    if value.kind == "number":
        if isinstance(v, float):
            return repr(v)
        return str(v)
    if value.kind == "null":
        return "null"
    return str(v)


def bad_q(detail: str, field: str = "q") -> BadRequestData:
    return BadRequestData(f"{field}: {detail}", field=field)
