"""Bodies of the ``lane-controller db ...`` and ``lane-controller audit ...`` commands; each returns an
exit status of :mod:`lane_controller.exit_codes`: 0 success, 1 the audit chain is broken, 2 a bad
option or input file, 3 the database cannot be used."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from lane_controller import exit_codes
from lane_controller.store.audit import Anchor, export_entries, verify_chain
from lane_controller.store.audit_file import verify_export
from lane_controller.store.db import (
    DEFAULT_DB_URL,
    create_engine_for,
    make_session_factory,
    read_only_engine,
    resolve_db_url,
)
from lane_controller.store.migrate import current_revision, head_revision, upgrade


def _display(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _missing_sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    path = Path(parsed.database).expanduser()
    return None if path.exists() else path


def open_migrated_engine(url: str | None, err: TextIO) -> Engine | None:
    """An engine on an existing database at the newest revision, else None after saying why."""
    resolved = resolve_db_url(url)
    missing = _missing_sqlite_file(resolved)
    if missing is not None:
        print(f"error: no database at {missing} (run `lane-controller db upgrade` first)", file=err)
        return None
    engine = create_engine_for(resolved)
    revision = current_revision(engine)
    if revision != head_revision():
        engine.dispose()
        print(
            f"error: database {_display(resolved)} is at revision {revision or 'none'}, "
            f"expected {head_revision()} (run `lane-controller db upgrade`)",
            file=err,
        )
        return None
    return engine


def run_db_upgrade(url: str | None, out: TextIO | None = None) -> int:
    """Create or migrate the database to the newest schema."""
    stream = out if out is not None else sys.stdout
    resolved = resolve_db_url(url)
    # Only the default's folder (var/ under the working folder) is made: a missing folder in a URL
    # someone typed is more likely a typing error than a wish.
    engine = create_engine_for(resolved, create_folder=resolved == DEFAULT_DB_URL)
    try:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    if before == after:
        print(f"{_display(resolved)}: already at revision {after}", file=stream)
    else:
        print(f"{_display(resolved)}: upgraded from {before or 'empty'} to revision {after}", file=stream)
    return exit_codes.OK


def run_audit_verify(
    url: str | None, out: TextIO, err: TextIO | None = None, anchors: Sequence[str] = ()
) -> int:
    """Print ``OK: N entries, chain head <hash>`` (exit 0) or the first problem (exit 1).

    ``anchors`` are ``SEQ:HASH`` heads published earlier; each must still be in the chain."""
    errors = err if err is not None else sys.stderr
    try:
        parsed = [Anchor.parse(text) for text in anchors]
    except ValueError as exc:
        print(f"error: {exc}", file=errors)
        return exit_codes.USAGE
    engine = open_migrated_engine(url, errors)
    if engine is None:
        return exit_codes.ENVIRONMENT
    try:
        with make_session_factory(read_only_engine(engine))() as session:
            report = verify_chain(session, parsed)
    finally:
        engine.dispose()
    print(report, file=out)
    return exit_codes.OK if report.ok else exit_codes.FINDINGS


def run_audit_verify_file(
    path: Path,
    fmt: str | None,
    out: TextIO,
    err: TextIO | None = None,
    anchors: Sequence[str] = (),
    *,
    partial: bool = False,
    tail: bool = False,
) -> int:
    """Verify an export file offline (no database): OK (0), the first problem (1), or unusable (2).
    ``partial``: a ``--lane`` export (gaps expected); ``tail``: a ``--since`` export (no gaps, but it
    starts after seq 1)."""
    errors = err if err is not None else sys.stderr
    chosen = fmt or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    try:
        parsed = tuple(Anchor.parse(text) for text in anchors)
        with path.open(encoding="utf-8", newline="") as stream:
            report = verify_export(
                stream,
                "csv" if chosen == "csv" else "jsonl",
                parsed,
                complete=not partial,
                from_start=not (partial or tail),
            )
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"error: {path}: {exc}", file=errors)
        return exit_codes.USAGE
    print(report, file=out)
    return exit_codes.OK if report.ok else exit_codes.FINDINGS


def _as_utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    # A time without a zone is taken as UTC, the zone the log is kept in.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def run_audit_export(
    url: str | None,
    fmt: str,
    since: datetime | str | None,
    lane: str | None,
    out: TextIO,
    *,
    err: TextIO | None = None,
) -> int:
    """Stream entries (with their hashes) as JSONL or CSV, optionally since a time and for one lane."""
    errors = err if err is not None else sys.stderr
    if fmt not in ("jsonl", "csv"):
        print(f"error: unknown format {fmt!r}; use jsonl or csv", file=errors)
        return exit_codes.USAGE
    try:
        start = _as_utc(since)
    except ValueError:
        print(f"error: --since {since!r} is not an ISO 8601 date/time", file=errors)
        return exit_codes.USAGE
    engine = open_migrated_engine(url, errors)
    if engine is None:
        return exit_codes.ENVIRONMENT
    try:
        with make_session_factory(read_only_engine(engine))() as session:
            export_entries(session, "csv" if fmt == "csv" else "jsonl", out, since=start, lane_id=lane)
    finally:
        engine.dispose()
    return exit_codes.OK


def read_anchor_file(path: Path) -> list[str]:
    """The ``SEQ:HASH`` anchors in a file written by ``audit anchor --file`` (one per line, the first word;
    ``#`` starts a comment)."""
    anchors = []
    for line in path.read_text(encoding="utf-8").splitlines():
        words = line.split("#", 1)[0].split()
        if words:
            anchors.append(words[0])
    return anchors


def run_audit_anchor(
    url: str | None, out: TextIO, *, file: Path | None = None, err: TextIO | None = None
) -> int:
    """Verify the chain, then print its head as ``SEQ:HASH`` (and append it with the time to ``file``)
    for an auditor to keep or publish; a broken chain is not anchored (exit 1)."""
    errors = err if err is not None else sys.stderr
    engine = open_migrated_engine(url, errors)
    if engine is None:
        return exit_codes.ENVIRONMENT
    try:
        with make_session_factory(read_only_engine(engine))() as session:
            report = verify_chain(session)
    finally:
        engine.dispose()
    if not report.ok:
        print(f"not anchored: {report}", file=errors)
        return exit_codes.FINDINGS
    if report.entries == 0:
        print("not anchored: the log holds no entries yet", file=errors)
        return exit_codes.NOTHING_TO_DO
    anchor = f"{report.entries}:{report.head_hash}"
    print(anchor, file=out, flush=True)  # shown first: a file that cannot be written loses nothing
    if file is not None:
        try:
            with file.open("a", encoding="utf-8") as stream:
                stream.write(f"{anchor}  # {datetime.now(UTC).isoformat(timespec='seconds')}\n")
        except OSError as exc:
            print(f"audit anchor: cannot append to {file}: {exc.strerror or exc}", file=errors)
            return exit_codes.USAGE
    return exit_codes.OK
