"""The few PromQL shapes an OpenSLO query over edgesla's series takes, parsed into a tree.

    [AGG [by|without (label, ...)]] ( [FUNC (] metric{matchers} [[range]] [)] ) [by|without (...)]

``AGG`` is an aggregation (``sum``, ``max``...), ``FUNC`` a range function (``rate``,
``increase``...), a matcher ``label="v"``, ``!=``, ``=~``, ``!~``. What the importer makes of
a query (which SLI kind, which targets) is ``openslo_sli``'s question: this module only reads
the text, strictly. Anything else — arithmetic, a second selector, ``offset``, a subquery,
``histogram_quantile`` — is a ``QueryError`` saying what was found and where.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Matcher", "Query", "QueryError", "parse_query"]

Op = Literal["=", "!=", "=~", "!~"]
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
    | (?P<op>=~|!~|!=|=)
    | (?P<punct>[(){}\[\],])
    | (?P<word>[A-Za-z_:][A-Za-z0-9_:]*|[0-9][A-Za-z0-9_.]*)
    | (?P<other>\S)
    )""",
    re.VERBOSE,
)
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r"}
_REGEX_SPECIAL = set(".^$*+?()[]{}|\\")
_AGGREGATIONS = frozenset({"sum", "max", "min", "avg", "count", "group", "stddev", "stdvar"})


class QueryError(ValueError):
    """The query is not one selector in the shapes above; the message says what is."""


@dataclass(frozen=True)
class Matcher:
    label: str
    op: Op
    value: str

    def names(self) -> tuple[str, ...]:
        """The exact values a matcher lists: ``a`` for ``=``/``!=``, ``a``, ``b`` for
        ``=~"a|b"``; QueryError when a regex is more than an alternation of exact names."""
        if self.op in ("=", "!="):
            return (self.value,)
        names, current, escaped = [], "", False
        for char in self.value:
            if escaped:
                current, escaped = current + char, False
            elif char == "\\":
                escaped = True
            elif char == "|":
                names.append(current)
                current = ""
            elif char in _REGEX_SPECIAL:  # "|" and "\\" are handled above
                raise QueryError(
                    f'{self.label}{self.op}"{self.value}": only exact names separated by | '
                    f"are understood (a regex character {char!r} matches more than a name; "
                    f"escape a literal one with a backslash)"
                )
            else:
                current += char
        names.append(current)
        if escaped or not all(names):
            raise QueryError(f'{self.label}{self.op}"{self.value}": an empty or unfinished name')
        return tuple(names)

    def text(self) -> str:
        return f'{self.label}{self.op}"{self.value}"'


@dataclass(frozen=True)
class Query:
    """One selector, perhaps in a range function, perhaps aggregated."""

    metric: str
    matchers: tuple[Matcher, ...] = ()
    function: str | None = None
    aggregation: str | None = None
    grouping: tuple[str, ...] = ()

    def matcher(self, label: str) -> Matcher | None:
        return next((m for m in self.matchers if m.label == label), None)

    def without(self, *labels: str) -> frozenset[Matcher]:
        """The matchers on labels other than ``labels``."""
        return frozenset(m for m in self.matchers if m.label not in labels)


class _Tokens:
    def __init__(self, text: str) -> None:
        self.items: list[tuple[str, str]] = []
        for match in _TOKEN.finditer(text):
            kind = match.lastgroup
            if kind is not None:
                self.items.append((kind, match.group(kind)))
        self.pos = 0

    def peek(self) -> str | None:
        return self.items[self.pos][1] if self.pos < len(self.items) else None

    def take(self) -> tuple[str, str]:
        if self.pos >= len(self.items):
            raise QueryError("the query ends too early")
        item = self.items[self.pos]
        self.pos += 1
        return item

    def expect(self, value: str) -> None:
        _, found = self.take()
        if found != value:
            raise QueryError(f"expected {value!r}, found {found!r}")

    def word(self, what: str) -> str:
        kind, found = self.take()
        if kind != "word":
            raise QueryError(f"expected {what}, found {found!r}")
        return found


def _unquote(literal: str) -> str:
    if literal[0] == "`":
        return literal[1:-1]
    out, chars = [], iter(literal[1:-1])
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        escaped = next(chars)
        if escaped not in _ESCAPES:
            raise QueryError(f"unsupported escape \\{escaped} in {literal}")
        out.append(_ESCAPES[escaped])
    return "".join(out)


def _grouping(tokens: _Tokens) -> tuple[str, ...]:
    tokens.take()  # by | without
    tokens.expect("(")
    labels: list[str] = []
    while tokens.peek() != ")":
        labels.append(tokens.word("a label name"))
        if tokens.peek() == ",":
            tokens.take()
    tokens.expect(")")
    return tuple(labels)


def _matchers(tokens: _Tokens) -> tuple[Matcher, ...]:
    tokens.expect("{")
    found: list[Matcher] = []
    while tokens.peek() != "}":
        label = tokens.word("a label name")
        kind, op = tokens.take()
        if kind != "op":
            raise QueryError(f"expected =, !=, =~ or !~ after {label}, found {op!r}")
        kind, value = tokens.take()
        if kind != "string":
            raise QueryError(f"expected a quoted value after {label}{op}, found {value!r}")
        if any(m.label == label for m in found):
            raise QueryError(f"label {label} is matched twice; match it once")
        found.append(Matcher(label, op, _unquote(value)))  # type: ignore[arg-type]  # op: by regex
        if tokens.peek() == ",":
            tokens.take()
    tokens.expect("}")
    return tuple(found)


def _selector(tokens: _Tokens) -> tuple[str, tuple[Matcher, ...], bool]:
    """metric{...}[range]: the name, the matchers, and whether a range followed."""
    metric = tokens.word("a metric name")
    if metric[0].isdigit():
        raise QueryError(f"{metric} is a number, not a selector of a series")
    if tokens.peek() == "(":
        raise QueryError(
            f"{metric}(...) is not understood here: edgesla reads one selector, bare or in "
            f"rate()/increase(), perhaps inside sum() or max()"
        )
    matchers = _matchers(tokens) if tokens.peek() == "{" else ()
    ranged = tokens.peek() == "["
    if ranged:
        tokens.take()
        tokens.word("a range such as 5m")
        tokens.expect("]")
    return metric, matchers, ranged


def _inner(tokens: _Tokens) -> Query:
    """FUNC(selector[range]) or a bare selector."""
    first = tokens.items[tokens.pos][1] if tokens.pos < len(tokens.items) else ""
    nxt = tokens.items[tokens.pos + 1][1] if tokens.pos + 1 < len(tokens.items) else ""
    if nxt != "(":
        metric, matchers, ranged = _selector(tokens)
        if ranged:
            raise QueryError(f"{metric}[...] is a range: wrap it in rate() or increase()")
        return Query(metric, matchers)
    if first in _AGGREGATIONS:
        raise QueryError(f"{first}() inside another aggregation is not understood")
    if first == "histogram_quantile":
        raise QueryError(
            "histogram_quantile() estimates a quantile; edgesla counts requests within a "
            "threshold exactly: write a ratioMetric with good: the _bucket{le=...} series at "
            "the threshold and total: the _count series"
        )
    tokens.take()
    tokens.expect("(")
    metric, matchers, ranged = _selector(tokens)
    if not ranged:
        raise QueryError(f"{first}({metric}) needs a range, e.g. {first}({metric}[5m])")
    tokens.expect(")")
    return Query(metric, matchers, function=first)


def parse_query(text: str) -> Query:
    """The tree of ``text``; QueryError saying what is not understood."""
    tokens = _Tokens(text)
    if not tokens.items:
        raise QueryError("the query is empty")
    bad = next((v for k, v in tokens.items if k == "other"), None)
    if bad is not None:
        raise QueryError(
            f"{bad!r} is not understood: edgesla reads one selector (no arithmetic, "
            f"comparison or offset), bare or in rate()/increase(), perhaps inside sum() or max()"
        )
    aggregation: str | None = None
    grouping: tuple[str, ...] = ()
    if tokens.peek() in _AGGREGATIONS and tokens.pos + 1 < len(tokens.items):
        follows = tokens.items[1][1]
        if follows in ("(", "by", "without"):
            aggregation = tokens.take()[1]
            if tokens.peek() in ("by", "without"):
                grouping = _grouping(tokens)
            tokens.expect("(")
            inner = _inner(tokens)
            tokens.expect(")")
            if tokens.peek() in ("by", "without"):
                grouping = _grouping(tokens)
            query = Query(inner.metric, inner.matchers, inner.function, aggregation, grouping)
        else:
            query = _inner(tokens)
    else:
        query = _inner(tokens)
    if tokens.peek() is not None:
        raise QueryError(
            f"{tokens.peek()!r} after the selector is not understood: edgesla reads one "
            f"selector (no arithmetic, comparison or offset)"
        )
    return query
