"""The `lane-controller` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from lane_controller import __version__


def _cmd_db_upgrade(args: argparse.Namespace) -> int:
    from lane_controller.store.cli_handlers import run_db_upgrade

    return run_db_upgrade(args.db)


def _cmd_audit_verify(args: argparse.Namespace) -> int:
    from lane_controller.store.cli_handlers import run_audit_verify, run_audit_verify_file

    if args.file is not None:
        return run_audit_verify_file(
            args.file, args.format, sys.stdout, anchors=args.anchor, partial=args.partial
        )
    return run_audit_verify(args.db, sys.stdout, anchors=args.anchor)


def _cmd_audit_export(args: argparse.Namespace) -> int:
    from lane_controller.store.cli_handlers import run_audit_export

    return run_audit_export(args.db, args.format, args.since, args.lane, sys.stdout)


def _cmd_cn_import(args: argparse.Namespace) -> int:
    from lane_controller.customs.cli_handlers import run_cn_import

    return run_cn_import(args.db, args.file, sys.stdout, as_json=args.json, stations_file=args.stations)


def _cmd_demo_lane(args: argparse.Namespace) -> int:
    from lane_controller.lanes.demo import run_exit_demo
    from lane_controller.store.cli_handlers import open_migrated_engine

    engine = open_migrated_engine(args.db, sys.stderr)
    if engine is None:
        return 2
    try:
        return run_exit_demo(engine, sys.stdout, ocr=not args.fixed_reads)
    finally:
        engine.dispose()


def _cmd_eval_ocr(args: argparse.Namespace) -> int:
    from lane_controller.vision.engine import OcrEngine
    from lane_controller.vision.evaluation import format_table, run_eval

    missing = [str(folder) for folder in args.dirs if not (folder / "labels.csv").is_file()]
    if missing:
        print(f"eval-ocr: no labels.csv in {', '.join(missing)}", file=sys.stderr)
        return 2
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
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="database URL (default: $LANE_CONTROLLER_DB, else sqlite:///var/lane-controller.db)",
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
        help="--file is a filtered export (--since/--lane): gaps in seq are expected, not missing entries",
    )
    verify.set_defaults(handler=_cmd_audit_verify)
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
        "accepted or rejected on its own. Exit 0: all accepted; 1: some rejected; 2: nothing imported",
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.handler(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
