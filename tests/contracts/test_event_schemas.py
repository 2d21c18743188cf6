"""The committed JSON Schemas are the event contracts; they must match the models exactly, and
inside a version a change may only add optional fields."""

import json
import subprocess

from shared.events.registry import REGISTRY
from shared.events.schema_export import SCHEMA_DIR, render_all


def test_every_registered_event_has_a_committed_schema_matching_its_model() -> None:
    rendered = render_all()
    committed = {p.name: p.read_text() for p in SCHEMA_DIR.glob("*.json")}
    assert set(committed) == set(rendered), "run: python -m shared.events.schema_export"
    for name, text in rendered.items():
        assert committed[name] == text, f"{name} is stale: run python -m shared.events.schema_export"


def test_event_types_are_versioned_and_unique() -> None:
    types = [spec.type for spec in REGISTRY]
    assert len(types) == len(set(types))
    for t in types:
        assert t.startswith("crm.") and t.rsplit(".", 1)[1].startswith("v"), t


def _published_versions(name: str) -> list[dict]:
    """Every version of a schema file that was ever committed."""
    path = f"shared/src/shared/events/schemas/{name}"
    log = subprocess.run(["git", "log", "--format=%H", "--", path], capture_output=True, text=True, check=True)
    versions = []
    for commit in log.stdout.split():
        shown = subprocess.run(["git", "show", f"{commit}:{path}"], capture_output=True, text=True, check=False)
        if shown.returncode == 0:
            versions.append(json.loads(shown.stdout))
    return versions


# An upper bound may be added to a number inside a version, and only where there was none: it states
# the cap the producer's API already enforced, so no event a producer ever published breaks it,
# while a forged or corrupted one is refused (docs/events.md).
ADDABLE_BOUNDS = ("maximum", "exclusiveMaximum")


def _without_added_bounds(before: dict, after: dict) -> dict:
    if before.get("type") not in ("integer", "number"):
        return after
    return {k: v for k, v in after.items() if not (k in ADDABLE_BOUNDS and k not in before)}


def test_schema_changes_within_a_version_are_additive() -> None:
    """Against every committed version: no field removed, no new required field, no type changed;
    the one tightening allowed is an upper bound on a number that had none."""
    for path in SCHEMA_DIR.glob("*.json"):
        after = json.loads(path.read_text())
        for before in _published_versions(path.name):
            removed = set(before.get("properties", {})) - set(after.get("properties", {}))
            assert not removed, f"{path.name}: fields removed {removed}"
            added_required = set(after.get("required", [])) - set(before.get("required", []))
            assert not added_required, f"{path.name}: new required fields {added_required}"
            for field, spec in before.get("properties", {}).items():
                now = _without_added_bounds(spec, after["properties"][field])
                assert now == spec, f"{path.name}: field {field} changed"


def test_only_a_missing_upper_bound_may_be_added_within_a_version() -> None:
    points = {"type": "integer", "minimum": 0}
    assert _without_added_bounds(points, {**points, "maximum": 10}) == points
    assert _without_added_bounds({**points, "maximum": 10}, {**points, "maximum": 5}) != {**points, "maximum": 10}
    text = {"type": "string"}
    assert _without_added_bounds(text, {**text, "maxLength": 5}) != text
