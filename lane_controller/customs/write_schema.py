"""Write the CN message JSON Schema: `python -m lane_controller.customs.write_schema [PATH]`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from lane_controller.customs.cn_message import json_schema

DEFAULT_PATH = Path("docs/cn-message.schema.json")


def main(argv: list[str]) -> int:
    """Write the schema to the path given (default docs/cn-message.schema.json)."""
    path = Path(argv[0]) if argv else DEFAULT_PATH
    path.write_text(json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
