"""Reading CN records from JSON (one object or an array) or JSON Lines, one record at a time.

The input is read as bytes. JSON Lines are decoded line by line, UTF-8 included, so one garbled line
rejects only itself and names its line and byte offset; the lines after it go on. A JSON document is
decoded whole before any record is yielded, so a document that is not JSON stores nothing. Each record
is limited in size and nesting depth (a CN nests three levels), and refused with the limit it broke.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Final

from lane_controller.strict_json import unique_keys

MAX_RECORD_BYTES: Final = 1 << 20
"""A CN is a few hundred bytes; a record over 1 MiB is refused without being decoded."""
MAX_DEPTH: Final = 8
"""A CN nests three levels (record, seal list, seal); deeper input is refused."""
MAX_DOCUMENT_BYTES: Final = 256 << 20
"""A JSON document is decoded whole: over 256 MiB, JSON Lines are the format to use."""
_BOM: Final = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One decoded record, or the reason it could not be decoded; `where` locates it in the input."""

    where: str
    value: Any = None
    decode_error: str | None = None


class InputFormatError(ValueError):
    """The input as a whole is not JSON or JSON Lines (nothing from it was stored)."""


def _depth(value: Any) -> int:
    """How deeply ``value`` nests (a scalar is 0, ``[]`` and ``{}`` are 1), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            depth += 1
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                break
            stack.extend((child, depth) for child in item)
    return deepest


def _decode(text: str) -> Any:
    """``json.loads`` that refuses duplicate keys, too deep a document and numbers of more digits than
    Python converts, each with a ValueError saying so (never a RecursionError or Python's own text)."""
    try:
        value = json.loads(text, object_pairs_hook=unique_keys)
    except RecursionError:
        msg = f"nested deeper than {MAX_DEPTH} levels"
        raise ValueError(msg) from None
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError) or "digits" not in str(exc):
            raise
        msg = "a number of more than 4300 digits"
        raise ValueError(msg) from None
    if _depth(value) > MAX_DEPTH:
        msg = f"nested deeper than {MAX_DEPTH} levels"
        raise ValueError(msg)
    return value


def _utf8_problem(data: bytes, exc: UnicodeDecodeError, *, base: int = 0) -> str:
    offset = base + exc.start
    return f"not UTF-8: byte 0x{data[exc.start]:02x} at file offset {offset}"


class RecordSource:
    """The records of one input stream, and the SHA-256 of every byte read from it (for the import's
    audit entry). ``jsonl``: True reads JSON Lines, False one JSON document, None detects the format
    (a text that starts with ``[`` or is one JSON document is a document, anything else JSON Lines)."""

    def __init__(self, stream: BinaryIO, *, jsonl: bool | None = None) -> None:
        self._stream = stream
        self._jsonl = jsonl
        self._digest = hashlib.sha256()

    @property
    def sha256(self) -> str:
        """SHA-256 of the bytes read so far (all of them once the records are exhausted)."""
        return self._digest.hexdigest()

    def records(self) -> Iterator[RawRecord]:
        """Yield the records in input order; raises `InputFormatError` for a document that is not JSON."""
        if self._jsonl:
            yield from self._jsonl_records(self._lines())
            return
        data = self._read_all()
        stripped = data.removeprefix(_BOM).lstrip()
        if self._jsonl is None and not stripped.startswith(b"["):
            try:
                document = _decode(stripped.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                yield from self._jsonl_records(_split_lines(data))
                return
            yield from _document_records(document)
            return
        yield from _document_records(_whole_document(data))

    def _read_all(self) -> bytes:
        data = self._stream.read(MAX_DOCUMENT_BYTES + 1)
        self._digest.update(data)
        if len(data) > MAX_DOCUMENT_BYTES:
            msg = f"a JSON document over {MAX_DOCUMENT_BYTES >> 20} MiB; send JSON Lines instead"
            raise InputFormatError(msg)
        return data

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        offset = 0
        while True:
            line = self._stream.readline(MAX_RECORD_BYTES + 1)
            if not line:
                return
            self._digest.update(line)
            start = offset
            offset += len(line)
            if len(line) > MAX_RECORD_BYTES and not line.endswith(b"\n"):
                # Too long to decode: skip to the line's end, counting and hashing what is skipped.
                while line and not line.endswith(b"\n"):
                    line = self._stream.readline(MAX_RECORD_BYTES)
                    self._digest.update(line)
                    offset += len(line)
                yield start, b""
                continue
            yield start, line

    def _jsonl_records(self, lines: Iterator[tuple[int, bytes]]) -> Iterator[RawRecord]:
        for line_no, (offset, line) in enumerate(lines, start=1):
            where = f"line {line_no}"
            raw = line.removeprefix(_BOM) if offset == 0 else line
            if not raw:
                yield RawRecord(where, decode_error=f"longer than {MAX_RECORD_BYTES >> 20} MiB")
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield RawRecord(where, decode_error=_utf8_problem(raw, exc, base=offset))
                continue
            if not text.strip():
                continue
            body = text.rstrip("\r\n")
            try:
                yield RawRecord(where, _decode(body))
            except json.JSONDecodeError as exc:
                reason = f"invalid JSON: {exc.msg} at column {exc.colno} (file offset {offset + exc.pos})"
                yield RawRecord(where, decode_error=reason)
            except ValueError as exc:
                yield RawRecord(where, decode_error=str(exc))


def _split_lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    offset = 0
    for line in data.splitlines(keepends=True):
        yield offset, line if len(line) <= MAX_RECORD_BYTES else b""
        offset += len(line)


def _whole_document(data: bytes) -> Any:
    try:
        text = data.removeprefix(_BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputFormatError(f"{_utf8_problem(data, exc)} (line {line})") from exc
    try:
        return _decode(text)
    except json.JSONDecodeError as exc:
        raise InputFormatError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except ValueError as exc:
        raise InputFormatError(f"not a CN document: {exc}") from exc


def _document_records(document: Any) -> Iterator[RawRecord]:
    values = document if isinstance(document, list) else [document]
    for index, value in enumerate(values, start=1):
        where = f"record {index}"
        size = len(json.dumps(value, ensure_ascii=False).encode())
        if size > MAX_RECORD_BYTES:
            yield RawRecord(where, decode_error=f"longer than {MAX_RECORD_BYTES >> 20} MiB")
        else:
            yield RawRecord(where, value)
