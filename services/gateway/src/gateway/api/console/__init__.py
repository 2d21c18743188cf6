"""The web console's plumbing: the browser session (cookie, refresh, CSRF), languages, and
rendering pages. Routes are in `gateway.api.routes.console_*`."""
