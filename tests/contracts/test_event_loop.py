"""No route of any service runs code in FastAPI's thread pool.

FastAPI calls a plain `def` endpoint or dependency through `run_in_threadpool`: a thread hop,
a queue and a lock per call, and the GIL handed back and forth with the event loop. On the
gateway's forwarding routes one such dependency, which did nothing, cost more CPU than checking
the caller's token. Everything a request runs here is async or quick; blocking work (password
hashing) goes to a thread explicitly, where it is named.
"""

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant

from tests.contracts.test_access_policy import SERVICES, app_of
from tests.support.policy import api_routes


def _runs_on_the_loop(call: Any) -> bool:
    target = call if inspect.isroutine(call) else getattr(call, "__call__", call)  # noqa: B004  # an instance's own __call__
    target = inspect.unwrap(target)
    return inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)


def _threaded(dependant: Dependant) -> Iterator[str]:
    for dep in dependant.dependencies:
        if dep.call is not None and not _runs_on_the_loop(dep.call):
            yield getattr(dep.call, "__qualname__", type(dep.call).__qualname__)
        yield from _threaded(dep)


@pytest.mark.parametrize("service", SERVICES)
def test_no_endpoint_or_dependency_runs_in_the_thread_pool(service, tmp_path) -> None:
    threaded = set()
    for route in api_routes(app_of(service, tmp_path)):
        name = f"{','.join(sorted(route.methods))} {route.path}"
        if not _runs_on_the_loop(route.endpoint):
            threaded.add(f"{name}: endpoint {route.endpoint.__qualname__}")
        threaded |= {f"{name}: dependency {dep}" for dep in _threaded(route.dependant)}
    assert not threaded, "plain functions FastAPI would run in its thread pool:\n" + "\n".join(sorted(threaded))


def test_the_check_tells_a_plain_function_from_a_coroutine() -> None:
    class Guard:
        async def __call__(self) -> None: ...

    class PlainGuard:
        def __call__(self) -> None: ...

    def plain() -> None: ...

    async def coroutine() -> None: ...

    async def generator() -> Any:
        yield

    assert [_runs_on_the_loop(c) for c in (coroutine, generator, Guard())] == [True, True, True]
    assert [_runs_on_the_loop(c) for c in (plain, PlainGuard())] == [False, False]
