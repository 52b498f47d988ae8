"""Reading CN records from JSON (one object or an array) or JSON Lines, one record at a time."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One decoded record, or the reason it could not be decoded; `where` locates it in the input."""

    where: str
    value: Any = None
    decode_error: str | None = None


class InputFormatError(ValueError):
    """The input as a whole is not JSON or JSON Lines (nothing from it was stored)."""


def iter_records(stream: TextIO, *, jsonl: bool | None = None) -> Iterator[RawRecord]:
    """Yield the records of a JSON or JSON Lines stream.

    JSON Lines are decoded line by line, so one garbled line rejects only itself. A JSON document (an
    object or an array of objects) is decoded whole. With `jsonl=None` the format is detected: a text
    that is not one JSON document and does not start with `[` is read as JSON Lines.
    """
    if jsonl:
        yield from _jsonl_records(stream)
        return
    text = stream.read()
    if jsonl is None and not text.lstrip().startswith("["):
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            yield from _jsonl_records(text.splitlines())
            return
        yield RawRecord("record 1", document)
        return
    yield from _document_records(text)


def _document_records(text: str) -> Iterator[RawRecord]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFormatError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    if isinstance(document, list):
        for index, value in enumerate(document, start=1):
            yield RawRecord(f"record {index}", value)
    else:
        yield RawRecord("record 1", document)


def _jsonl_records(lines: Iterable[str]) -> Iterator[RawRecord]:
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield RawRecord(f"line {line_no}", json.loads(line))
        except json.JSONDecodeError as exc:
            yield RawRecord(f"line {line_no}", decode_error=f"invalid JSON: {exc.msg} at column {exc.colno}")
