"""Staff answers are not to be stored: `Cache-Control: no-store` on every answer of the staff API
(`/api/...`, the customer-360 view and the services' pass-through) and of the console's pages, unless
the route set its own (the console's static files are cached for an hour). The same for the
identity API (tokens, a new account's generated password, a second factor's secret) and a
customer's survey page (their answers).

They carry customers' personal data (profiles, purchase lists, exports as CSV, the 360 view) to
screens in shops and offices, often behind a company proxy; without a Cache-Control a shared cache
or the browser's disk may keep a copy for the next person at that screen. The member app's answers
have their own rules (`app_http`).

The console's answers also carry `CONSOLE_HEADERS`: its pages run only the console's own scripts
(a name or a note that slipped past escaping runs nothing), are never shown in another site's
frame (a framed erasure form could be clicked without the person seeing it), name no console
address to other sites (a customer's id is in the path), and are read as the type they say.
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIXES = ("/api/", "/console", "/identity/", "/surveys/")
CONSOLE = "/console"
# Scripts only from the console's static files (htmx, console.js): no inline script, no handler
# attribute, no `javascript:` address, no eval. Styles may be inline (a chart's colours, htmx's
# indicator style): CSS runs no code. Forms post only to the console's own host.
CONSOLE_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:",
    "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
))
CONSOLE_HEADERS = {
    "Content-Security-Policy": CONSOLE_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    # Same origin only: the language switch and a refusal page read the Referer to go back to the
    # form's page; other sites learn nothing.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


class StaffNoStoreMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIXES):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        console = path == CONSOLE or path.startswith(CONSOLE + "/")

        async def no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
                if console:
                    for name, value in CONSOLE_HEADERS.items():
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, no_store)
