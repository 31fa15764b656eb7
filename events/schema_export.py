"""Write the contract's JSON Schema to events/schema/ (run by `make schema`; a test fails when it is stale)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from events.models import SCHEMA_MAJOR, EventBatch

SCHEMA_DIR = Path(__file__).parent / "schema"
SCHEMA_FILE = SCHEMA_DIR / f"event-batch.v{SCHEMA_MAJOR}.schema.json"


def render_schema() -> str:
    schema = EventBatch.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://shadowscope.dev/schema/{SCHEMA_FILE.name}"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main() -> int:
    SCHEMA_DIR.mkdir(exist_ok=True)
    SCHEMA_FILE.write_text(render_schema(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
