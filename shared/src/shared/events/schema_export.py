"""Writes the JSON Schema of every registered event payload to `events/schemas/<type>.json`.

The committed files are the published contracts (for POS vendors and other teams); a test fails
when a model changes without its schema being regenerated with `python -m shared.events.schema_export`.
"""

import json
from pathlib import Path

from shared.events.registry import REGISTRY

SCHEMA_DIR = Path(__file__).parent / "schemas"


def render_all() -> dict[str, str]:
    out = {}
    for spec in REGISTRY:
        schema = spec.model.model_json_schema(mode="validation")
        schema["$id"] = f"urn:crm:event:{spec.type}"
        schema["x-topic"] = spec.topic
        out[f"{spec.type}.json"] = json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    return out


def main() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name, text in render_all().items():
        (SCHEMA_DIR / name).write_text(text)
        print(f"wrote {SCHEMA_DIR / name}")


if __name__ == "__main__":
    main()
