"""What a service's logs leave out: the HTTP client's line per request, unless debugging."""

import logging
from collections.abc import Iterator

import pytest

from shared.logs import configure_logging

TOUCHED = ("", "httpx", "aiokafka", "uvicorn", "uvicorn.error")


@pytest.fixture(autouse=True)
def logging_restored() -> Iterator[None]:
    """configure_logging changes process-wide loggers; put them back for the tests after."""
    saved = {name: (logging.getLogger(name).level, logging.getLogger(name).handlers[:], logging.getLogger(name).propagate)
             for name in TOUCHED}
    yield
    for name, (level, handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate


def test_the_http_clients_line_per_request_is_left_out_but_its_warnings_are_kept() -> None:
    configure_logging("gateway", "INFO")
    httpx_log = logging.getLogger("httpx")
    assert not httpx_log.isEnabledFor(logging.INFO)
    assert httpx_log.isEnabledFor(logging.WARNING)
    assert logging.getLogger("gateway.service_layer.customer360").isEnabledFor(logging.INFO)


def test_debugging_shows_every_request() -> None:
    configure_logging("gateway", "DEBUG")
    assert logging.getLogger("httpx").isEnabledFor(logging.DEBUG)
