"""The console's languages: zh-CN by default, English on request (a cookie the switch sets).

Messages are written in English in the templates and code (`_("...")`); the zh-CN catalogue
(`gateway/console/locale/zh_CN/LC_MESSAGES/console.po`) translates each. The .po file is the one
source: it is compiled in memory at start-up, so a fresh clone needs no build step, and
`python -m gateway.api.console.catalogue` re-extracts the messages into it after a change. A small
English catalogue (`locale/en`) words the codes the console shows as data."""

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from gateway.console import LOCALE

DEFAULT = "zh-CN"
LANGUAGES = {"zh-CN": "中文", "en": "English"}
LANG_COOKIE = "crm_console_lang"
DOMAIN = "console"


def catalogue_file(language: str) -> Path:
    return LOCALE / language.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The messages of `language`. English is the messages themselves, but for the codes shown as
    data (`render.SHOWN_AS_DATA`: "service_desk", "vip"), whose words its own catalogue gives."""
    with catalogue_file(language).open("rb") as po:
        catalog = read_po(po, locale=language.replace("-", "_"))
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def N_(message: str) -> str:
    """Marks a message for the catalogue that is translated later, where it is shown."""
    return message


def language_of(cookie: str | None) -> str:
    return cookie if cookie in LANGUAGES else DEFAULT
