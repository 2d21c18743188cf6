"""A service whose outbox relay, consumer or job loop has ended is not live: it would go on
answering requests, but never publish its outbox, consume or run the job again."""

import pytest

from points.config import Settings
from points.main import create_app
from tests.support.platform import TestEnv, service
from tests.support.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


async def test_a_background_task_that_ended_fails_the_liveness_probe(env: TestEnv, database_factory) -> None:
    async with service(create_app(env.settings(Settings, await database_factory("points")))) as points:
        r = await points.get("/health/live")
        assert (r.status_code, r.json()["status"]) == (200, "live")
        relay = points.app.state.relay  # type: ignore[attr-defined]
        relay.stopping = True  # its loop ends, as after a failure it did not expect
        relay.wake()

        async def failed() -> bool:
            return (await points.get("/health/live")).status_code == 503
        await eventually(failed, timeout=10, what="liveness failing once the relay ended")
        body = (await points.get("/health/live")).json()
        assert body["status"] == "failed" and body["ended"] == ["outbox-relay"]
