"""The console's colours, computed from its stylesheet as WCAG 2.1 does: text at least 4.5:1 against
every background it is shown on, the focus ring at least 3:1 against what surrounds it (1.4.3,
1.4.11). Staff with older eyes read these pages on shop-floor tablets in daylight."""

import re

import pytest

from gateway.console import STATIC

CSS = (STATIC / "console.css").read_text(encoding="utf-8")
FOUND = re.search(r":root\s*\{([^}]*)\}", CSS)
assert FOUND is not None, "console.css has no :root block of colours"
ROOT = FOUND.group(0)
PALETTE = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{3,6})\b", FOUND.group(1)))

# Where text is shown: the page, a card, a table heading, the rows marked overdue or due soon.
BACKGROUNDS = ("paper", "shade", "overdue", "soon")
TEXT = ("ink", "muted", "accent", "ok", "bad", "warn")


def luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    channels = [int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_is_computed_as_wcag_does() -> None:
    assert contrast("#000", "#fff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic near miss


@pytest.mark.parametrize("text", TEXT)
@pytest.mark.parametrize("background", BACKGROUNDS)
def test_text_colours_are_readable_on_every_background(text: str, background: str) -> None:
    assert contrast(PALETTE[text], PALETTE[background]) >= 4.5


@pytest.mark.parametrize(("text", "background"), [
    ("on-bar", "bar"),  # the header: brand, menu, the person's name
    ("paper", "accent"),  # a primary button
])
def test_text_on_the_dark_surfaces_is_readable(text: str, background: str) -> None:
    assert contrast(PALETTE[text], PALETTE[background]) >= 4.5


@pytest.mark.parametrize(("ring", "background"), [
    ("focus", "paper"), ("focus", "shade"), ("focus", "overdue"), ("focus", "soon"), ("focus-on-bar", "bar"),
])
def test_the_focus_ring_stands_out_from_what_surrounds_it(ring: str, background: str) -> None:
    assert contrast(PALETTE[ring], PALETTE[background]) >= 3


def test_every_colour_of_the_stylesheet_is_one_of_the_palette_checked_here() -> None:
    # A colour written into a rule would escape the checks above.
    outside = CSS.replace(ROOT, "")
    assert re.findall(r"#[0-9a-fA-F]{3,6}\b|rgba?\(|hsla?\(", outside) == []
