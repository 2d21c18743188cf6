"""How the stylesheet lays out what the pages draw: a chart's legend keeps each swatch before its
label, and a date in a table stays on one line."""

import re

import pytest

from gateway.console import STATIC

pytestmark = pytest.mark.unit

# Comments left out: one before a rule would otherwise be read as part of its selector.
CSS = re.sub(r"/\*.*?\*/", "", (STATIC / "console.css").read_text(encoding="utf-8"), flags=re.S)


def declarations(selector: str) -> dict[str, str]:
    """The declarations of the rules whose selector list names `selector`, later ones winning."""
    found: dict[str, str] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", CSS):
        if selector in (s.strip() for s in selectors.split(",")):
            found.update((name.strip(), value.strip()) for name, _, value in
                         (d.partition(":") for d in body.split(";") if ":" in d))
    return found


def test_a_legend_s_swatch_sits_inline_before_its_label() -> None:
    # `.chart svg` makes the chart a block; the legend's `svg.key` (more specific) stays in the line.
    assert declarations(".chart svg.key").get("display") == "inline-block"
    assert declarations(".chart svg.key").get("vertical-align") == "middle"


def test_a_date_cell_is_kept_on_one_line() -> None:
    assert declarations("td.date").get("white-space") == "nowrap"
