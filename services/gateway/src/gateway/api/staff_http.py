"""Staff answers are not to be stored: `Cache-Control: no-store` on every answer of the staff API
(`/api/...`, the customer-360 view and the services' pass-through) and of the console's pages, unless
the route set its own (the console's static files are cached for an hour). The same for the
identity API (tokens, a new account's generated password, a second factor's secret) and a
customer's survey page (their answers).

They carry customers' personal data (profiles, purchase lists, exports as CSV, the 360 view) to
screens in shops and offices, often behind a company proxy; without a Cache-Control a shared cache
or the browser's disk may keep a copy for the next person at that screen. The member app's answers
have their own rules (`app_http`).
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIXES = ("/api/", "/console", "/identity/", "/surveys/")


class StaffNoStoreMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIXES):
            await self.app(scope, receive, send)
            return

        async def no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, no_store)
