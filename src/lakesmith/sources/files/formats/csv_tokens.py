"""CSV records and fields cut as Spark's reader (univocity, Spark's defaults) cuts them.

Sail's CSV reader fails on rows with a different number of fields and its `from_csv` ignores
quotes, so the text of each file is cut here, in a Python function the engine runs next to the
data (`mapInArrow`, see csv_format). Recorded against Spark 4.3 (tests/golden/file_formats.json):

* blank lines are skipped; a line starting with the `comment` character is skipped;
* a field starting with the quote character runs to the closing quote; the escape character
  (default backslash) before a quote makes it literal (set to the quote itself, a doubled quote
  is one quote); a closing quote not followed by the
  separator or the end of the record means the quote was not a quote after all, and the field is
  the raw text up to the next separator (univocity's STOP_AT_DELIMITER);
* an unquoted empty field is NULL, a quoted one the empty string;
* without multiLine a record ends at the end of a line even inside quotes; with it, a quoted
  field runs across line ends.
"""

from __future__ import annotations

from collections.abc import Iterator


def records(text: str, *, sep: str = ",", quote: str = '"', escape: str = "\\",
            multiline: bool = False, comment: str | None = None
            ) -> Iterator[tuple[str, list[str | None]]]:
    """Each record of `text`: its raw text and its fields."""
    n = len(text)
    i = 0
    while i < n:
        if not multiline:
            end = _line_end(text, i)
            line = text[i:end]
            i = _after_line_end(text, end)
            if line == "" or (comment and line.startswith(comment)):
                continue
            fields, _ = _fields(line, 0, len(line), sep, quote, escape, multiline=False)
            yield line, fields
        else:
            end = _line_end(text, i)
            if end == i or (comment and text.startswith(comment, i)):
                i = _after_line_end(text, end)
                continue
            fields, stop = _fields(text, i, n, sep, quote, escape, multiline=True)
            yield text[i:stop], fields
            i = _after_line_end(text, stop)


def _line_end(text: str, i: int) -> int:
    while i < len(text) and text[i] not in "\r\n":
        i += 1
    return i


def _after_line_end(text: str, i: int) -> int:
    if text.startswith("\r\n", i):
        return i + 2
    return i + 1 if i < len(text) else i


def _fields(text: str, i: int, n: int, sep: str, quote: str, escape: str, *, multiline: bool
            ) -> tuple[list[str | None], int]:
    """The fields of the record starting at `i` and where the record ends (its line end)."""
    fields: list[str | None] = []
    while True:
        if i < n and text[i] == quote and quote:
            value, i, quoted_ok = _quoted(text, i, n, sep, quote, escape, multiline)
            if not quoted_ok:  # an unescaped quote: the raw text up to the separator
                start = i
                i = _unquoted_end(text, start, n, sep)
                value = text[start:i]
            fields.append(value)
        else:
            start = i
            i = _unquoted_end(text, i, n, sep)
            fields.append(text[start:i] if i > start else None)
        if i < n and text.startswith(sep, i):
            i += len(sep)
            continue
        return fields, i


def _unquoted_end(text: str, i: int, n: int, sep: str) -> int:
    while i < n and text[i] not in "\r\n" and not text.startswith(sep, i):
        i += 1
    return i


def _quoted(text: str, i: int, n: int, sep: str, quote: str, escape: str, multiline: bool
            ) -> tuple[str, int, bool]:
    """A quoted field from `i` (its opening quote): value, end, and whether it was well quoted
    (when not, `end` is the field's start, for a raw re-read)."""
    start = i
    i += 1
    parts: list[str] = []
    while i < n:
        c = text[i]
        if escape and c == escape and escape != quote and i + 1 < n and text[i + 1] in (quote, escape):
            parts.append(text[i + 1])
            i += 2
        elif c == quote and escape == quote and i + 1 < n and text[i + 1] == quote:
            parts.append(quote)  # `escape` set to the quote: a doubled quote is one quote
            i += 2
        elif c == quote:
            after = i + 1
            if after >= n or text.startswith(sep, after) or text[after] in "\r\n":
                return "".join(parts), after, True
            return "", start, False
        elif c in "\r\n" and not multiline:
            break
        else:
            parts.append(c)
            i += 1
    return "".join(parts), i, True  # an unclosed quote runs to the end of the record
