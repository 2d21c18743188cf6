"""The console's assets: Jinja2 templates, static files (the stylesheet and a vendored htmx), and
the zh-CN gettext catalogue. The code that serves them is in `gateway.api.console` and the
`console_*` route modules."""

from pathlib import Path

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
LOCALE = HERE / "locale"
