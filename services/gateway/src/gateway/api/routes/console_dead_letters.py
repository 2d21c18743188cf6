"""The operators' dead-letter pages: browse and filter, inspect one, replay after a dry run (one,
a selection, or everything matching the filter), resume an interrupted replay, discard with a
reason. The records are read from the dead-letter topic; what was done to them is kept in the
gateway's database (`service_layer.dead_letters`)."""

from typing import Annotated

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from gateway.adapters.dead_letter_topic import DeadLetterRead, DeadLetterTopic
from gateway.api.console.render import go, page, zone_of
from gateway.api.console.session import Console, ConsoleUser, Form, one
from gateway.config import Settings
from gateway.domain.dead_letters import DeadLetter, Filter, parse_filter, parse_id
from gateway.service_layer import dead_letters
from gateway.service_layer.console_people import display_names
from shared.deps import CommandsDep, UowDep
from shared.errors import Invalid
from shared.integers import Int64
from shared.query_params import QUERY_CHECKED_ELSEWHERE

router = APIRouter(prefix="/console/ops/dead-letters", tags=["console"], include_in_schema=False, dependencies=[QUERY_CHECKED_ELSEWHERE])
FILTER_FIELDS = ("error_class", "event_type", "topic", "key", "since", "until", "state")


async def close_dead_letter_topic(app: FastAPI) -> None:
    topic: DeadLetterTopic | None = getattr(app.state, "dead_letter_topic", None)
    if topic is not None:
        await topic.close()


def _topic(request: Request) -> DeadLetterTopic:
    topic: DeadLetterTopic | None = getattr(request.app.state, "dead_letter_topic", None)
    if topic is None:
        topic = request.app.state.dead_letter_topic = DeadLetterTopic(request.app.state.settings)
    return topic


async def _read(request: Request) -> tuple[DeadLetterTopic, DeadLetterRead]:
    topic = _topic(request)
    settings: Settings = request.app.state.settings
    return topic, await topic.read(settings.console_dead_letters_read)


async def _letters(request: Request) -> tuple[DeadLetterTopic, list[DeadLetter]]:
    topic, read = await _read(request)
    return topic, read.letters


def _filter_from(request: Request, values: dict[str, str]) -> Filter:
    return parse_filter({k: values.get(k, "") for k in FILTER_FIELDS if k in values}, zone_of(request))


def _form_filter(request: Request, form: dict[str, list[str]]) -> Filter:
    return _filter_from(request, {k: one(form, k) for k in FILTER_FIELDS if k in form})


@router.get("")
async def browse(request: Request, uow: UowDep, user: Annotated[ConsoleUser, Console("gateway.dead_letter.read")]) -> HTMLResponse:
    wanted = _filter_from(request, dict(request.query_params))
    topic, read = await _read(request)
    listed = await dead_letters.browse(uow, topic.topic, read.letters, wanted)
    replays = await dead_letters.recent_replays(uow)
    staff_names = await display_names(uow, [r.requested_by for r in replays])
    return page(request, "ops/dead_letters.html", user, listed=listed, wanted=wanted, replays=replays, total=len(read.letters),
                older_left=read.older_left, staff_names=staff_names)


@router.get("/{letter_id}")
async def inspect(letter_id: str, request: Request, uow: UowDep, user: Annotated[ConsoleUser, Console("gateway.dead_letter.read")]) -> HTMLResponse:
    partition, offset = parse_id(letter_id)
    topic, letters = await _letters(request)
    letter = dead_letters.find(letters, partition, offset)
    mark = dead_letters.mark_for(await dead_letters.marks(uow, topic.topic), letter)
    staff_names = await display_names(uow, [mark.actor] if mark else [])
    return page(request, "ops/dead_letter.html", user, letter=letter, mark=mark, staff_names=staff_names)


@router.post("/dry-run")
async def dry_run(request: Request, form: Form, uow: UowDep, user: Annotated[ConsoleUser, Console("gateway.dead_letter.handle")]) -> HTMLResponse:
    """How many records a replay of the filter (or of the selected ones) would send and how many
    dead letters it would close, and a form to confirm exactly that count."""
    wanted = _form_filter(request, form)
    selection = [] if one(form, "scope") == "all" else form.get("selected", [])
    if one(form, "scope") == "selection" and not selection:
        raise Invalid("selected", "choose at least one dead letter, or replay everything matching the filter")
    topic, letters = await _letters(request)
    todo = await dead_letters.pending(uow, topic.topic, letters, wanted, selection)
    return page(request, "ops/dead_letter_dry_run.html", user, todo=todo.letters, records=todo.records, siblings=todo.siblings,
                wanted=wanted, selection=selection)


@router.post("/replay")
async def replay(request: Request, form: Form, commands: CommandsDep, user: Annotated[ConsoleUser, Console("gateway.dead_letter.handle")]) -> Response:
    """Starts the confirmed replay and sends its first batch; the page then shows its outcome."""
    wanted = _form_filter(request, form)
    try:
        expected = int(one(form, "expected"))
    except ValueError:
        raise Invalid("expected", "the dry run's count, a whole number") from None
    topic, letters = await _letters(request)
    async with commands() as uow:  # committed before the first record goes out
        replay_id = await dead_letters.start_replay(
            uow, topic.topic, letters, wanted, form.get("selected", []), expected, actor=user.principal.subject,
        )
    await _send(request, topic, letters, replay_id)
    return go(request, f"/console/ops/dead-letters/replays/{replay_id}")


@router.post("/replays/{replay_id}/resume")
async def resume(replay_id: Int64, request: Request, form: Form, user: Annotated[ConsoleUser, Console("gateway.dead_letter.handle")]) -> Response:
    topic, letters = await _letters(request)
    await _send(request, topic, letters, replay_id)
    return go(request, f"/console/ops/dead-letters/replays/{replay_id}")


@router.get("/replays/{replay_id}")
async def replay_page(replay_id: Int64, request: Request, uow: UowDep, user: Annotated[ConsoleUser, Console("gateway.dead_letter.read")]) -> HTMLResponse:
    replay = await dead_letters.replay_of(uow, replay_id)
    return page(request, "ops/dead_letter_replay.html", user, replay=replay, marks=await dead_letters.replay_marks(uow, replay_id),
                staff_names=await display_names(uow, [replay.requested_by]))


@router.post("/{letter_id}/discard")
async def discard(letter_id: str, request: Request, form: Form, uow: UowDep, user: Annotated[ConsoleUser, Console("gateway.dead_letter.handle")]) -> Response:
    partition, offset = parse_id(letter_id)
    topic, letters = await _letters(request)
    letter = dead_letters.find(letters, partition, offset)
    await dead_letters.discard(uow, topic.topic, letter, one(form, "reason"), actor=user.principal.subject)
    return go(request, f"/console/ops/dead-letters/{letter_id}")


async def _send(request: Request, topic: DeadLetterTopic, letters: list[DeadLetter], replay_id: int) -> None:
    settings: Settings = request.app.state.settings
    async with topic.replaying:
        await dead_letters.run_replay(
            request.app.state.commands, topic.topic, letters, replay_id, topic.republish,
            pace_s=1.0 / settings.console_replay_per_s, batch=settings.console_replay_batch,
        )
