"""Which SQL `whsync sql --target postgres` lets through: exactly one statement, and one that reads.

Each statement then runs in its own `BEGIN READ ONLY` transaction that is rolled back afterwards
(`sqlcmd.postgres_runner`). What makes that a guarantee is that the statement cannot end or change
its transaction: `COMMIT`, `ROLLBACK`, `BEGIN`, `SET [SESSION|TRANSACTION] ...`, `RESET`, `DO`, `CALL`
and every other statement are refused before anything is sent, and a second statement in the same
text (`select 1; commit; create table ...`) is refused too. A `select` cannot change the transaction
either: `set_config('transaction_read_only', ...)` fails once the query has its snapshot, and
`set_config('default_transaction_read_only', 'off', false)` is undone by the rollback.

The statements are split with PostgreSQL's own lexical rules (`scan.l`): '...' strings with ''
(standard_conforming_strings, which the session turns on), E'...' strings with backslash escapes,
U&'...', B'...', X'...', "quoted identifiers", $tag$ dollar quotes $tag$, -- and nested /* */
comments, identifiers that contain `$` (`archived$`). Anything this lexer does not recognise is
refused rather than guessed at.
"""
from __future__ import annotations

import re

READS = ("select", "with", "values", "table", "show", "explain")

_IDENT_START = re.compile(r"[A-Za-z_\u0080-\U0010ffff]")
_IDENT = re.compile(r"[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_$\u0080-\U0010ffff]*")
_DOLLAR = re.compile(r"\$([A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_\u0080-\U0010ffff]*)?\$")
_PARAM = re.compile(r"\$[0-9]+")


class NotReadOnly(ValueError):
    """The text is not exactly one reading statement: the reason, in one line."""


def _string_end(text: str, i: int, backslash: bool) -> int:
    """Index just past the '...' string whose opening quote is at i."""
    j = i + 1
    n = len(text)
    while j < n:
        c = text[j]
        if backslash and c == "\\":
            j += 2
            continue
        if c == "'":
            if j + 1 < n and text[j + 1] == "'":
                j += 2
                continue
            return j + 1
        j += 1
    raise NotReadOnly("unterminated quoted string")


def tokens(text: str) -> list[str]:
    """The statement-level tokens of `text`: words (lower-cased), ';', and '(' (everything else is
    skipped: strings, identifiers in quotes, comments, numbers, operators)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while depth:
                if j >= n:
                    raise NotReadOnly("unterminated /* comment")
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            i = j
        elif c == "'":
            i = _string_end(text, i, backslash=False)
        elif c == '"':
            j = i + 1
            while True:
                j = text.find('"', j)
                if j < 0:
                    raise NotReadOnly("unterminated quoted identifier")
                if text.startswith('""', j):
                    j += 2
                    continue
                break
            i = j + 1
        elif c == "$":
            m = _DOLLAR.match(text, i)
            if m:
                end = text.find(m.group(0), m.end())
                if end < 0:
                    raise NotReadOnly(f"unterminated dollar-quoted string {m.group(0)}")
                i = end + len(m.group(0))
            elif _PARAM.match(text, i):
                i = _PARAM.match(text, i).end()
            else:
                raise NotReadOnly("a '$' that starts no dollar quote")
        elif _IDENT_START.match(c):
            m = _IDENT.match(text, i)
            word = m.group(0)
            i = m.end()
            low = word.lower()
            if i < n and text[i] == "'":
                if low == "e":
                    i = _string_end(text, i, backslash=True)
                    continue
                if low in ("b", "x", "n"):
                    i = _string_end(text, i, backslash=False)
                    continue
            if low == "u" and text.startswith("&'", i):
                i = _string_end(text, i + 1, backslash=False)
                continue
            if low == "u" and text.startswith('&"', i):
                i += 1  # the quoted identifier follows
                continue
            out.append(low)
        elif c.isdigit():
            i += 1
            while i < n and (text[i].isdigit() or text[i] == "."):
                i += 1
        elif c in ";(":
            out.append(c)
            i += 1
        else:
            i += 1  # operators, commas, brackets, ...
    return out


def check_read(text: str) -> None:
    """Refuse (NotReadOnly) any text that is not exactly one statement starting with a reading
    keyword (a trailing ';' is allowed)."""
    toks = tokens(text)
    while toks and toks[-1] == ";":
        toks.pop()
    if ";" in toks:
        raise NotReadOnly("one statement at a time: whsync sql runs each statement on its own, read-only")
    words = [t for t in toks if t != "("]
    if not words:
        raise NotReadOnly("no statement to run")
    if words[0] not in READS:
        raise NotReadOnly(f"whsync sql only reads: {words[0].upper()} is refused (it runs "
                          f"{', '.join(w.upper() for w in READS)} statements, each in a read-only transaction)")
