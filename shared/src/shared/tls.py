"""The TLS settings of the platform's HTTP clients, made once per process.

Loading the trusted certificates (certifi's bundle, or the system's named by SSL_CERT_FILE) costs
tens of milliseconds of CPU, and httpx and httpx-aiohttp do it for every client and transport
built without a context of its own: several times at each start of a service, once per
downstream service in the gateway. A context is safe to share between clients (it holds settings
and trusted certificates, not connections)."""

import ssl
from functools import cache

import httpx


@cache
def client_tls() -> ssl.SSLContext:
    """httpx's default: certificates verified against the trusted bundle (SSL_CERT_FILE or
    SSL_CERT_DIR when set, as httpx reads them, else certifi's)."""
    return httpx.create_ssl_context()
