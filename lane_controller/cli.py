"""The `lane-controller` command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from lane_controller import __version__, exit_codes


def _cmd_db_upgrade(args: argparse.Namespace) -> int:
    from lane_controller.store.cli_handlers import run_db_upgrade

    return run_db_upgrade(args.db)


def _cmd_audit_verify(args: argparse.Namespace) -> int:
    from lane_controller.store.cli_handlers import read_anchor_file, run_audit_verify, run_audit_verify_file

    anchors = list(args.anchor)
    if args.anchor_file is not None:
        try:
            kept = read_anchor_file(args.anchor_file)
        except (OSError, UnicodeDecodeError) as exc:
            print(f"audit verify: anchor file {args.anchor_file}: {exc}", file=sys.stderr)
            return exit_codes.USAGE
        if not kept:
            print(f"audit verify: anchor file {args.anchor_file} holds no anchors", file=sys.stderr)
            return exit_codes.USAGE
        anchors += kept
    if args.file is not None:
        return run_audit_verify_file(
            args.file, args.format, sys.stdout, anchors=anchors, partial=args.partial, tail=args.tail
        )
    return run_audit_verify(args.db, sys.stdout, anchors=anchors)


def _cmd_audit_anchor(args: argparse.Namespace) -> int:
    from lane_controller.store.cli_handlers import run_audit_anchor

    return run_audit_anchor(args.db, sys.stdout, file=args.file)


def _cmd_audit_export(args: argparse.Namespace) -> int:
    from lane_controller.store.cli_handlers import run_audit_export

    return run_audit_export(args.db, args.format, args.since, args.lane, sys.stdout)


def _cmd_cn_import(args: argparse.Namespace) -> int:
    from lane_controller.customs.cli_handlers import run_cn_import

    return run_cn_import(args.db, args.file, sys.stdout, as_json=args.json, stations_file=args.stations)


def _cmd_cn_confirm_seal(args: argparse.Namespace) -> int:
    from lane_controller.customs.cli_handlers import run_cn_confirm_seal

    return run_cn_confirm_seal(
        args.db,
        args.cn_number,
        officer_id=args.officer,
        photo=args.photo,
        evidence_dir=args.evidence_dir,
        out=sys.stdout,
    )


def _cmd_demo_lane(args: argparse.Namespace) -> int:
    from lane_controller.lanes.demo import run_exit_demo
    from lane_controller.store.cli_handlers import open_migrated_engine

    engine = open_migrated_engine(args.db, sys.stderr)
    if engine is None:
        return exit_codes.ENVIRONMENT
    try:
        return run_exit_demo(engine, sys.stdout, ocr=not args.fixed_reads)
    finally:
        engine.dispose()


def _cmd_eval_ocr(args: argparse.Namespace) -> int:
    from lane_controller.vision.engine import OcrEngine
    from lane_controller.vision.evaluation import LabelsError, format_table, load_labels, run_eval

    try:
        for folder in args.dirs:
            load_labels(folder)  # every folder checked before the first image is read
    except LabelsError as exc:
        print(f"eval-ocr: {exc}", file=sys.stderr)
        return exit_codes.USAGE
    reports = run_eval(
        args.dirs,
        args.out,
        engine_factory=lambda: OcrEngine.shared(threads=args.threads),
        limit=args.limit,
        progress=sys.stderr,
    )
    print(format_table(reports))
    print(f"report: {args.out / 'report.json'}, chart: {args.out / 'report.png'}")
    return 0


def _iso_datetime(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date/time: {text!r}") from exc


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser for every sub-command."""
    parser = argparse.ArgumentParser(
        prog="lane-controller",
        description="Controller for automated container-yard exit and entry lanes.",
        epilog="exit status: 0 done; 1 findings (records rejected, audit chain broken); 2 bad command "
        "line or input, nothing changed; 3 the database cannot be used (unreachable, wrong URL, not "
        "migrated); 4 nothing to do (an empty input); 141 standard output closed (… | head)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="database URL (default: $LANE_CONTROLLER_DB, else sqlite:///var/lane-controller.db, a file "
        "in var/ under the working folder, not /var)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="apply all migrations (creates the database)")
    upgrade.set_defaults(handler=_cmd_db_upgrade)

    audit = commands.add_parser("audit", help="the tamper-evident lane log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_commands.add_parser(
        "verify", help="check the hash chain; print OK or the first broken, missing or reordered entry"
    )
    verify.add_argument(
        "--anchor",
        action="append",
        default=[],
        metavar="SEQ:HASH",
        help="a chain head published earlier (seq and entry hash); fails if that entry no longer carries "
        "it, which catches a log rewritten from some point on, head included. Repeatable",
    )
    verify.add_argument(
        "--anchor-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="check every anchor kept in FILE (as `audit anchor --file` writes them)",
    )
    verify.add_argument(
        "--file",
        type=Path,
        default=None,
        metavar="EXPORT",
        help="verify an `audit export` file offline instead of the database",
    )
    verify.add_argument(
        "--format", choices=("jsonl", "csv"), default=None, help="format of --file (default: by its suffix)"
    )
    verify.add_argument(
        "--partial",
        action="store_true",
        help="--file is a --lane export: gaps in seq are expected, not missing entries",
    )
    verify.add_argument(
        "--tail",
        action="store_true",
        help="--file is a --since export: it starts after seq 1 but must have no gaps",
    )
    verify.set_defaults(handler=_cmd_audit_verify)
    anchor = audit_commands.add_parser(
        "anchor",
        help="verify the chain and print its head as SEQ:HASH, for an auditor to keep or publish; "
        "`audit verify --anchor SEQ:HASH` later proves the log still holds it. Exit 0; 1 chain broken "
        "(nothing anchored); 3 database; 4 empty log",
    )
    anchor.add_argument(
        "--file", type=Path, default=None, metavar="FILE", help="also append the head and the time to FILE"
    )
    anchor.set_defaults(handler=_cmd_audit_anchor)
    export = audit_commands.add_parser("export", help="stream entries with their hashes to stdout")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument(
        "--since", type=_iso_datetime, default=None, help="only entries at or after this time"
    )
    export.add_argument("--lane", default=None, help="only entries of this lane id")
    export.set_defaults(handler=_cmd_audit_export)

    cn = commands.add_parser("cn", help="transport notes (CN, 運送單)")
    cn_commands = cn.add_subparsers(dest="cn_command", required=True, metavar="ACTION")
    cn_import = cn_commands.add_parser(
        "import",
        help="validate and store CN messages from a JSON or JSONL file ('-' for stdin); each record is "
        "accepted or rejected on its own. Exit 0: all accepted; 1: some rejected; 2: the file is unusable, "
        "nothing imported; 3: database unusable; 4: no records in the file",
    )
    cn_import.add_argument("file", type=Path, help="JSON (one object or an array) or JSONL file")
    cn_import.add_argument("--json", action="store_true", help="print the report as JSON")
    cn_import.add_argument(
        "--stations",
        type=Path,
        default=None,
        metavar="CSV",
        help="destination station table (code,name_zh,name_en); default: the packaged working list",
    )
    cn_import.set_defaults(handler=_cmd_cn_import)
    confirm = cn_commands.add_parser(
        "confirm-seal",
        help="record a dedicated officer's (專責人員) confirmation of a CN's vehicle seal (phase 1), with a "
        "photo kept as evidence named by its SHA-256; audited under the officer's id. Exit 0 recorded; "
        "1 refused (unknown CN, nothing to confirm, already confirmed); 2 unusable photo; 3 database",
    )
    confirm.add_argument("cn_number", metavar="CN", help="the CN number")
    confirm.add_argument("--officer", required=True, metavar="ID", help="the officer's id")
    confirm.add_argument("--photo", required=True, type=Path, metavar="FILE", help="JPEG or PNG photo")
    confirm.add_argument(
        "--evidence-dir",
        type=Path,
        default=Path("var/evidence"),
        metavar="DIR",
        help="where photos are kept (default: var/evidence under the working folder)",
    )
    confirm.set_defaults(handler=_cmd_cn_confirm_seal)

    demo_lane = commands.add_parser(
        "demo-lane",
        help="drive one exit truck (CN20261126001 of examples/cn-messages.jsonl) through a lane of simulated "
        "devices on real transports (barrier PLC on Modbus TCP, RFID and e-seal readers on ptys, a synthetic "
        "camera read by the real OCR), recording to the database",
    )
    demo_lane.add_argument(
        "--fixed-reads",
        action="store_true",
        help="skip the camera and OCR: the truck's plate and container reads are given (quick)",
    )
    demo_lane.set_defaults(handler=_cmd_demo_lane)

    eval_ocr = commands.add_parser(
        "eval-ocr",
        help="run the plate and container readers on labelled image folders (labels.csv: file,text,kind) and "
        "print per folder the exact, wrong-but-valid and no-read rates, the per-truck rate of container "
        "folders and the latency p50/p95 per image; writes report.json and report.png. Exit 0 when it ran",
    )
    eval_ocr.add_argument(
        "dirs", nargs="+", type=Path, metavar="DIR", help="folder with images and labels.csv"
    )
    eval_ocr.add_argument(
        "--out", type=Path, default=Path("eval-ocr-report"), help="output folder (default: eval-ocr-report)"
    )
    eval_ocr.add_argument(
        "--limit", type=int, default=None, metavar="N", help="only the first N images per folder"
    )
    eval_ocr.add_argument(
        "--threads", type=int, default=None, metavar="N", help="torch threads for OCR (default: up to 2)"
    )
    eval_ocr.set_defaults(handler=_cmd_eval_ocr)
    return parser


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush into a closed pipe raises nothing."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (:mod:`lane_controller.exit_codes`)."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.handler(args)
        sys.stdout.flush()  # a write that fails (a closed pipe, a full disk) fails here, not at exit
    except BrokenPipeError:
        _quiet_stdout()
        return exit_codes.BROKEN_PIPE
    except OSError as exc:  # the machine's, not the data's: a full disk, a folder that cannot be made
        try:
            sys.stdout.flush()
        except OSError:
            _quiet_stdout()  # stdout itself failed: what it still holds cannot be written anywhere
        where = f" {exc.filename}" if exc.filename else ""
        print(f"lane-controller: cannot read or write{where}: {exc.strerror or exc}", file=sys.stderr)
        return exit_codes.ENVIRONMENT
    except Exception as exc:
        from lane_controller.store.db import database_problem, resolve_db_url

        problem = database_problem(exc, resolve_db_url(args.db))
        if problem is None:
            raise
        print(f"lane-controller: {problem}", file=sys.stderr)
        return exit_codes.ENVIRONMENT
    return status


if __name__ == "__main__":
    sys.exit(main())
