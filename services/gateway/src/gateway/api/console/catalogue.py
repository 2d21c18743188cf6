"""The console's message catalogue: every message of its templates and code, extracted with
Babel, against the zh-CN .po file.

`python -m gateway.api.console.catalogue` adds the messages missing from the .po file (to be
translated there) and drops those no longer used; a test fails while any message is missing or
untranslated, so no English slips onto a Chinese page."""

import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from gateway.api.console.i18n import DEFAULT, catalogue_file

PACKAGE = Path(__file__).parents[2]  # gateway/
# Templates, and the console's Python code (the messages it renders itself).
METHODS = [("console/templates/**.html", "jinja2.ext:babel_extract"), ("api/console/**.py", "python"),
           ("api/routes/console_*.py", "python")]
OPTIONS = {"console/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}}
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}


Message = str | tuple[str, str]  # a message, or a count's (singular, plural)


def extracted() -> Iterator[tuple[Message, str]]:
    """(message, where) of every message used by the console."""
    for filename, lineno, message, _comments, _context in extract_from_dir(
        PACKAGE, METHODS, OPTIONS, KEYWORDS, comment_tags=(), strip_comment_tags=True,
    ):
        yield (message if isinstance(message, str) else (message[0], message[1])), f"{filename}:{lineno}"


def read(language: str = DEFAULT) -> Catalog:
    with catalogue_file(language).open("rb") as po:
        return read_po(po, locale=language.replace("-", "_"))


def problems(language: str = DEFAULT) -> list[str]:
    """Messages missing from the catalogue or untranslated there."""
    catalog = read(language)
    found = []
    for message, where in extracted():
        entry = catalog.get(message)
        if entry is None:
            found.append(f"missing: {message!r} ({where})")
        elif not entry.string or not all(entry.string):  # a plural's string is a tuple, a form a number
            found.append(f"untranslated: {message!r} ({where})")
    return sorted(set(found))


def update(language: str = DEFAULT) -> None:
    catalog = read(language)
    used: dict[Message, list[tuple[str, int]]] = {}
    for message, where in extracted():
        filename, _, line = where.rpartition(":")
        used.setdefault(message, []).append((filename, int(line)))
    for unused in [m.id for m in catalog if m.id and m.id not in used]:
        del catalog[unused]
    for message, locations in used.items():
        entry = catalog.get(message)
        if entry is None:
            catalog.add(message, "" if isinstance(message, str) else ("",) * catalog.num_plurals, locations=locations)
        else:
            entry.locations = locations
    with catalogue_file(language).open("wb") as po:
        write_po(po, catalog, width=120, sort_output=True, include_lineno=False)


if __name__ == "__main__":
    update(sys.argv[1] if len(sys.argv) > 1 else DEFAULT)
    print("\n".join(problems()) or "every message is translated")
