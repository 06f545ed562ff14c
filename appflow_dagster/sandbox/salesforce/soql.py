"""A small recursive-descent SOQL parser producing a plain AST (semantics live in ``query.py``).

Supported: ``SELECT`` fields / ``FIELDS(ALL|STANDARD|CUSTOM)`` / ``COUNT()``, ``FROM``, ``WHERE``
(comparison operators, ``AND``/``OR``/``NOT`` with parentheses required when mixing, as the SOQL
guide says, ``[NOT] IN``, ``LIKE``; string, number, boolean, null, date, datetime and
relative date literals), ``ORDER BY ... ASC|DESC NULLS FIRST|LAST``, ``LIMIT``, ``OFFSET``.
"""

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any


class SoqlError(Exception):
    """A query error with Salesforce's ``errorCode`` (``MALFORMED_QUERY``, ``INVALID_FIELD``, ...)."""

    def __init__(self, error_code: str, message: str):
        super().__init__(message)
        self.error_code = error_code
        self.message = message


@dataclass(frozen=True)
class Tok:
    kind: str  # IDENT STRING NUMBER DATE DATETIME OP PUNCT EOF
    value: Any
    pos: int
    text: str


@dataclass(frozen=True)
class Lit:
    kind: str  # string number boolean null date datetime relative
    value: Any  # str | float | bool | None | epoch day | epoch seconds | (name, n)


@dataclass(frozen=True)
class Cmp:
    field: str
    op: str  # = != < <= > >=
    value: Lit
    pos: int


@dataclass(frozen=True)
class In:
    field: str
    values: tuple[Lit, ...]
    negate: bool
    pos: int


@dataclass(frozen=True)
class Like:
    field: str
    pattern: str
    pos: int


@dataclass(frozen=True)
class Bool:
    op: str  # AND OR NOT
    args: tuple


@dataclass(frozen=True)
class Order:
    field: str
    desc: bool
    nulls_last: bool
    pos: int


@dataclass(frozen=True)
class Query:
    text: str
    obj: str
    obj_pos: int
    fields: tuple[tuple[str, int], ...]  # (name or "FIELDS(ALL)", position)
    count: bool
    where: Any
    order: tuple[Order, ...]
    limit: int | None
    offset: int | None


_TOKEN = re.compile(
    r"""(?P<WS>\s+)
    |(?P<DATETIME>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2}))
    |(?P<DATE>\d{4}-\d{2}-\d{2})
    |(?P<NUMBER>[+-]?\d+(?:\.\d+)?|[+-]?\.\d+)
    |(?P<STRING>'(?:[^'\\]|\\.)*')
    |(?P<IDENT>[A-Za-z_][A-Za-z0-9_.]*)
    |(?P<OP><=|>=|!=|<>|=|<|>)
    |(?P<PUNCT>[(),:])""",
    re.VERBOSE,
)
_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
    "_": "\\_",
    "%": "\\%",
}
RELATIVE = {
    "TODAY",
    "YESTERDAY",
    "TOMORROW",
    "LAST_WEEK",
    "THIS_WEEK",
    "NEXT_WEEK",
    "LAST_MONTH",
    "THIS_MONTH",
    "NEXT_MONTH",
    "LAST_90_DAYS",
    "NEXT_90_DAYS",
    "THIS_YEAR",
    "LAST_YEAR",
    "NEXT_YEAR",
}
RELATIVE_N = {
    "LAST_N_DAYS",
    "NEXT_N_DAYS",
    "N_DAYS_AGO",
    "LAST_N_WEEKS",
    "NEXT_N_WEEKS",
    "LAST_N_MONTHS",
    "NEXT_N_MONTHS",
}
KEYWORDS = {
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "LIMIT",
    "OFFSET",
    "NULL",
    "TRUE",
    "FALSE",
    "GROUP",
    "HAVING",
    "WITH",
    "FOR",
    "USING",
}


def malformed(text: str, pos: int, detail: str) -> SoqlError:
    """Salesforce's MALFORMED_QUERY message: the query, a caret, the row/column and the detail."""
    return SoqlError("MALFORMED_QUERY", position_message(text, pos, detail))


def position_message(text: str, pos: int, detail: str) -> str:
    line_start = text.rfind("\n", 0, pos) + 1
    row = text.count("\n", 0, pos) + 1
    col = pos - line_start + 1
    line_end = text.find("\n", pos)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    return f"\n{line}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n{detail}"


def _unescape(body: str, text: str, pos: int) -> str:
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            nxt = body[i + 1] if i + 1 < len(body) else ""
            if nxt not in _ESCAPES:
                raise malformed(text, pos, "Invalid string literal: bad escape sequence")
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def tokenize(text: str) -> list[Tok]:
    toks: list[Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise malformed(text, pos, f"unexpected token: '{text[pos]}'")
        kind = m.lastgroup or ""
        raw = m.group()
        if kind == "WS":
            pass
        elif kind == "STRING":
            toks.append(Tok(kind, _unescape(raw[1:-1], text, pos), pos, raw))
        elif kind == "NUMBER":
            toks.append(Tok(kind, float(raw), pos, raw))
        elif kind == "DATE":
            try:
                d = dt.date.fromisoformat(raw)
            except ValueError:
                raise malformed(
                    text, pos, f"line 1:{pos} no viable alternative at character '{raw}'"
                ) from None
            toks.append(Tok(kind, d.toordinal() - 719163, pos, raw))
        elif kind == "DATETIME":
            try:
                ts = dt.datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
            except ValueError:
                raise malformed(
                    text, pos, f"line 1:{pos} no viable alternative at character '{raw}'"
                ) from None
            toks.append(Tok(kind, ts, pos, raw))
        else:
            toks.append(Tok(kind, raw, pos, raw))
        pos = m.end()
    toks.append(Tok("EOF", None, len(text), "<EOF>"))
    return toks


class Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    # --- token helpers ---
    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def kw(self, *words: str) -> bool:
        t = self.tok
        return t.kind == "IDENT" and t.value.upper() in words

    def punct(self, p: str) -> bool:
        return self.tok.kind == "PUNCT" and self.tok.value == p

    def next(self) -> Tok:
        t = self.tok
        self.i += 1
        return t

    def fail(self, t: Tok | None = None) -> SoqlError:
        t = t or self.tok
        return malformed(self.text, t.pos, f"unexpected token: {t.text if t.kind != 'EOF' else '<EOF>'}")

    def expect_kw(self, word: str) -> Tok:
        if not self.kw(word):
            raise self.fail()
        return self.next()

    def expect_punct(self, p: str) -> Tok:
        if not self.punct(p):
            raise self.fail()
        return self.next()

    def ident(self) -> Tok:
        t = self.tok
        if t.kind != "IDENT" or t.value.upper() in KEYWORDS:
            raise self.fail()
        return self.next()

    # --- grammar ---
    def query(self) -> Query:
        self.expect_kw("SELECT")
        fields: list[tuple[str, int]] = []
        count = False
        if self.kw("COUNT") and self.toks[self.i + 1].value == "(" and self.toks[self.i + 2].value == ")":
            self.i += 3
            count = True
        else:
            while True:
                t = self.tok
                if self.kw("FIELDS") and self.toks[self.i + 1].value == "(":
                    self.i += 2
                    which = self.ident().value.upper()
                    if which not in ("ALL", "STANDARD", "CUSTOM"):
                        raise self.fail(self.toks[self.i - 1])
                    self.expect_punct(")")
                    fields.append((f"FIELDS({which})", t.pos))
                elif self.punct("("):
                    raise malformed(self.text, t.pos, "The sandbox does not support relationship subqueries")
                else:
                    name = self.ident()
                    if self.punct("("):
                        raise malformed(
                            self.text, t.pos, f"The sandbox does not support the function {name.value}()"
                        )
                    fields.append((name.value, name.pos))
                if not self.punct(","):
                    break
                self.next()
        self.expect_kw("FROM")
        obj = self.ident()
        where = None
        if self.kw("WHERE"):
            self.next()
            where = self.condition()
        order: list[Order] = []
        if self.kw("ORDER"):
            self.next()
            self.expect_kw("BY")
            while True:
                f = self.ident()
                desc = False
                nulls_last = False
                if self.kw("ASC", "DESC"):
                    desc = self.next().value.upper() == "DESC"
                    nulls_last = desc  # Salesforce: NULLS FIRST for ASC, NULLS LAST for DESC by default
                if self.kw("NULLS"):
                    self.next()
                    if not self.kw("FIRST", "LAST"):
                        raise self.fail()
                    nulls_last = self.next().value.upper() == "LAST"
                order.append(Order(f.value, desc, nulls_last, f.pos))
                if not self.punct(","):
                    break
                self.next()
        limit = offset = None
        if self.kw("LIMIT"):
            self.next()
            limit = self.integer()
        if self.kw("OFFSET"):
            self.next()
            offset = self.integer()
        if self.tok.kind != "EOF":
            raise self.fail()
        return Query(self.text, obj.value, obj.pos, tuple(fields), count, where, tuple(order), limit, offset)

    def integer(self) -> int:
        t = self.tok
        if t.kind != "NUMBER" or not t.text.isdigit():
            raise self.fail()
        self.next()
        return int(t.text)

    def condition(self) -> Any:
        first = self.unary()
        if not self.kw("AND", "OR"):
            return first
        op = self.tok.value.upper()
        args = [first]
        while self.kw(op):
            self.next()
            args.append(self.unary())
        if self.kw("AND", "OR"):  # mixing AND and OR without parentheses
            raise self.fail()
        return Bool(op, tuple(args))

    def unary(self) -> Any:
        if self.kw("NOT"):
            self.next()
            return Bool("NOT", (self.unary(),))
        if self.punct("("):
            self.next()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.field_expr()

    def field_expr(self) -> Any:
        f = self.ident()
        if self.tok.kind == "OP":
            op = self.next().value
            return Cmp(f.value, "!=" if op == "<>" else op, self.literal(), f.pos)
        negate = False
        if self.kw("NOT"):
            self.next()
            negate = True
            if not self.kw("IN"):
                raise self.fail()
        if self.kw("IN"):
            self.next()
            self.expect_punct("(")
            values = [self.literal()]
            while self.punct(","):
                self.next()
                values.append(self.literal())
            self.expect_punct(")")
            return In(f.value, tuple(values), negate, f.pos)
        if self.kw("LIKE"):
            self.next()
            t = self.tok
            if t.kind != "STRING":
                raise self.fail()
            self.next()
            return Like(f.value, t.value, f.pos)
        raise self.fail()

    def literal(self) -> Lit:
        t = self.tok
        if t.kind == "STRING":
            self.next()
            return Lit("string", t.value)
        if t.kind == "NUMBER":
            self.next()
            return Lit("number", t.value)
        if t.kind == "DATE":
            self.next()
            return Lit("date", t.value)
        if t.kind == "DATETIME":
            self.next()
            return Lit("datetime", t.value)
        if t.kind == "IDENT":
            up = t.value.upper()
            if up in ("TRUE", "FALSE"):
                self.next()
                return Lit("boolean", up == "TRUE")
            if up == "NULL":
                self.next()
                return Lit("null", None)
            if up in RELATIVE:
                self.next()
                return Lit("relative", (up, 0))
            if up in RELATIVE_N:
                self.next()
                self.expect_punct(":")
                return Lit("relative", (up, self.integer()))
        raise self.fail()


def parse(text: str) -> Query:
    """Parse one SOQL statement; raises ``SoqlError`` with ``MALFORMED_QUERY`` on bad syntax."""
    return Parser(text).query()
