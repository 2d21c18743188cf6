"""Message templates, stored as package files `campaigns/templates/<name>.<language>.txt` (zh-CN
first, en): a template is reviewed and shipped with the code, like the rules that use it. An
e-mail's subject is a template of its own, `<name>.subject.<language>.txt`, so the body stays
one text for every channel."""

import re
from functools import lru_cache
from importlib import resources

NAME = re.compile(r"^[a-z0-9_]{1,64}$")
FALLBACK = "zh-CN"


@lru_cache(maxsize=256)
def source(name: str, language: str) -> str | None:
    """The template's text in `language`, else in zh-CN; None when there is no such template (a
    name that is not a plain file name never reaches the file system)."""
    return _read(name, "", language) if NAME.match(name) else None


@lru_cache(maxsize=256)
def subject(name: str, language: str) -> str | None:
    """The template's e-mail subject in `language`, else in zh-CN; None when it has none (the
    e-mail transport then uses its default subject)."""
    return _read(name, ".subject", language) if NAME.match(name) else None


@lru_cache(maxsize=1)
def names() -> frozenset[str]:
    """Every template shipped (the names of its body files)."""
    folder = resources.files("campaigns") / "templates"
    return frozenset(n for f in folder.iterdir() if NAME.match(n := f.name.split(".", 1)[0]) and ".subject." not in f.name)


def _read(name: str, part: str, language: str) -> str | None:
    folder = resources.files("campaigns") / "templates"
    for lang in dict.fromkeys((language, FALLBACK)):
        path = folder / f"{name}{part}.{lang}.txt"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return None
