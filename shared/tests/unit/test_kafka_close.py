"""Closing a Kafka client on shutdown: whatever the client raises stays in the client, unless this
task itself is being cancelled."""

import asyncio

import pytest

from shared.kafka import close_quietly

pytestmark = pytest.mark.unit


class Client:
    """Stands in for an aiokafka client whose stop() fails as they do when the broker died."""

    def __init__(self, failure: BaseException | None = None, hang: bool = False) -> None:
        self.failure, self.hang, self.stopped = failure, hang, False

    async def stop(self) -> None:
        if self.hang:
            await asyncio.sleep(3600)
        self.stopped = True
        if self.failure is not None:
            raise self.failure


@pytest.mark.parametrize("failure", [ConnectionError("broker gone"), asyncio.CancelledError()])
async def test_a_client_failing_to_close_does_not_end_the_shutdown(failure) -> None:
    client = Client(failure)
    await close_quietly(client)  # type: ignore[arg-type]
    assert client.stopped  # and the caller goes on closing the rest


async def test_a_cancellation_of_the_closing_task_itself_goes_on() -> None:
    closing = asyncio.create_task(close_quietly(Client(hang=True)))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
