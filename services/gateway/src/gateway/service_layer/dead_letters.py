"""Handling dead letters: browsing them with what was done to each, replaying them to their
original topic, discarding them with a reason; every action audited (`console_tables`).

A replay is started after a dry run: the operator confirms the count the dry run showed, and a
replay whose matching records changed since is refused. The replay is then bounded to the records
the dry run counted (`Filter.bounded_to`): resumed later, it does not send records that have come to
match its filter since (the cause not fixed yet), which nobody confirmed. Each record is sent and acknowledged by
the broker before its mark is written, so a mark means "on the topic"; a crash between the two
leaves the record unmarked and a resumed replay sends it again, which the consumers absorb (they
apply each event id once). The mark's primary key makes a record replayed once whoever asks.
Records go out at a bounded rate, and at most a batch per request: a replay that stops (the batch
is used up, the broker is away, the gateway restarted) stays `interrupted` and is resumed from
where it was, since the records already marked are skipped. A record several consumer groups gave up
on is a letter of each (`DeadLetter.original_record`): the replay sends it once and marks every open
letter of it, those its filter or selection left out too, since every group reads the topic again;
sent once per letter, a record that failed again came back as a letter of each group for each send,
and a letter left open was of a record already sent, offered for another replay."""

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from gateway.adapters.console_tables import DeadLetterMarkRow, DeadLetterReplayRow
from gateway.domain.dead_letters import DeadLetter, Filter, Mark, check_reason
from shared.commands import Commands
from shared.errors import Conflict, Invalid, NotFound
from shared.unit_of_work import UnitOfWork

Publish = Callable[[DeadLetter], Awaitable[tuple[int, int]]]
MAX_SELECTION = 500


@dataclass(frozen=True, slots=True)
class Listed:
    letter: DeadLetter
    mark: DeadLetterMarkRow | None


async def marks(uow: UnitOfWork, topic: str) -> dict[tuple[int, int], DeadLetterMarkRow]:
    rows = (await uow.session.exec(select(DeadLetterMarkRow).where(DeadLetterMarkRow.topic == topic))).all()
    return {(row.partition, row.offset): row for row in rows}


def mark_for(known: dict[tuple[int, int], DeadLetterMarkRow], letter: DeadLetter) -> DeadLetterMarkRow | None:
    """The mark made on this very record. A mark at its place for another event is stale: the
    broker lost its log (Tansu keeps it in memory) and a new dead letter took the place."""
    row = known.get((letter.partition, letter.offset))
    return row if row is not None and row.event_id == letter.event_id else None


async def _free_place(uow: UnitOfWork, topic: str, letter: DeadLetter) -> DeadLetterMarkRow | None:
    """The letter's own mark, if any, after removing a stale one from its place."""
    row = await uow.session.get(DeadLetterMarkRow, (topic, letter.partition, letter.offset))
    if row is not None and row.event_id != letter.event_id:
        await uow.session.delete(row)
        await uow.session.flush()
        return None
    return row


def _mark_of(row: DeadLetterMarkRow | None) -> Mark | None:
    return Mark(row.action) if row is not None else None


async def browse(uow: UnitOfWork, topic: str, letters: list[DeadLetter], wanted: Filter) -> list[Listed]:
    """The dead letters matching the filter, newest failure first, each with its mark."""
    known = await marks(uow, topic)
    found = [Listed(d, mark_for(known, d)) for d in letters]
    found = [item for item in found if wanted.matches(item.letter, _mark_of(item.mark))]
    return sorted(found, key=lambda item: (item.letter.failed_at is None, item.letter.failed_at), reverse=True)


def find(letters: list[DeadLetter], partition: int, offset: int) -> DeadLetter:
    letter = next((d for d in letters if d.partition == partition and d.offset == offset), None)
    if letter is None:
        raise NotFound(f"no dead letter {partition}-{offset}")
    return letter


@dataclass(frozen=True, slots=True)
class Pending:
    """What a replay sends and closes: every open letter of the records it sends, oldest first."""

    letters: list[DeadLetter]
    # Of those, the letters of the same records that the filter or selection left out: the other
    # groups' letters of a record that is read again by every group.
    siblings: int

    @property
    def records(self) -> int:
        return len({d.original_record for d in self.letters})


async def pending(uow: UnitOfWork, topic: str, letters: list[DeadLetter], wanted: Filter, selection: list[str]) -> Pending:
    """What a replay of this filter (or, when given, of these selected ids within it) would send:
    the records of the matching dead letters neither replayed nor discarded, with every open
    letter of each (within the replay's bound), oldest first."""
    if len(selection) > MAX_SELECTION:
        raise Invalid("selected", f"at most {MAX_SELECTION} at once; replay by filter instead")
    open_only = dataclasses.replace(wanted, state="open")
    known = await marks(uow, topic)
    chosen = set(selection)
    taken = [d for d in letters if open_only.matches(d, _mark_of(mark_for(known, d)))
             and (not chosen or d.id in chosen)]
    records = {d.original_record for d in taken}
    # The same record's letters whatever else they show (another group, another error), open and,
    # for a confirmed replay, within its bound: what a dry run counted is all it closes.
    any_open = Filter(through=wanted.through)
    found = [d for d in letters if d.original_record in records and any_open.matches(d, _mark_of(mark_for(known, d)))]
    return Pending(sorted(found, key=lambda d: (d.failed_at is None, d.failed_at, d.partition, d.offset)),
                   siblings=len(found) - len(taken))


async def start_replay(
    uow: UnitOfWork, topic: str, letters: list[DeadLetter], wanted: Filter, selection: list[str], expected: int, actor: str,
) -> int:
    """Records the replay the operator confirmed; Conflict when the dry run's count is stale."""
    todo = (await pending(uow, topic, letters, wanted, selection)).letters
    if len(todo) != expected:
        raise Conflict(f"{len(todo)} dead letters match now, not the {expected} of the dry run: run the dry run again")
    if not todo:
        raise Invalid("expected", "nothing to replay")
    row = DeadLetterReplayRow(
        requested_by=actor, requested_at=uow.now(), filter_json=json.dumps(_fields(wanted.bounded_to(todo)), default=str),
        selection=",".join(selection), dry_run_count=expected, state="running",
    )
    uow.session.add(row)
    await uow.session.flush()
    assert row.id is not None
    return row.id


async def run_replay(
    commands: Commands, topic: str, letters: list[DeadLetter], replay_id: int, publish: Publish, *, pace_s: float, batch: int,
) -> DeadLetterReplayRow:
    """Sends the replay's open records, at most `batch` of them, one per `pace_s`, each once for
    all its open letters, which it marks; the replay row as it stands afterwards (finished, or
    interrupted to be resumed)."""
    async with commands() as uow:
        replay = await _replay(uow, replay_id)
        wanted = _filter(json.loads(replay.filter_json))
        todo = (await pending(uow, topic, letters, wanted, [s for s in replay.selection.split(",") if s])).letters
        replay.state, replay.last_error = "running", ""
        uow.session.add(replay)
    records: dict[tuple[str, ...], list[DeadLetter]] = {}
    for letter in todo:
        records.setdefault(letter.original_record, []).append(letter)
    sent = skipped = 0
    error = ""
    for letters_of_record in list(records.values())[:batch]:
        try:
            partition, offset = await publish(letters_of_record[0])
        except Exception as exc:  # the broker is away: stop here, resumable
            error = f"{type(exc).__name__}: {exc}"[:500]
            break
        for letter in letters_of_record:
            try:
                async with commands() as uow:
                    await _free_place(uow, topic, letter)
                    uow.session.add(DeadLetterMarkRow(
                        topic=topic, partition=letter.partition, offset=letter.offset, action=Mark.REPLAYED, replay_id=replay_id,
                        actor=replay.requested_by, acted_at=uow.now(), result=f"{letter.original_topic}[{partition}]@{offset}",
                        event_type=letter.event_type, event_id=letter.event_id,
                    ))
                sent += 1
            except IntegrityError:  # replayed meanwhile by another replay: its event id is applied once
                skipped += 1
        await asyncio.sleep(pace_s)
    async with commands() as uow:
        replay = await _replay(uow, replay_id)
        replay.replayed += sent
        replay.skipped += skipped
        left = len(todo) - sent - skipped
        replay.state = "finished" if left == 0 else "interrupted"
        replay.last_error = error
        replay.finished_at = uow.now() if left == 0 else None
        uow.session.add(replay)
    return replay


async def discard(uow: UnitOfWork, topic: str, letter: DeadLetter, reason: str, actor: str) -> None:
    reason = check_reason(reason)
    if await _free_place(uow, topic, letter) is not None:
        raise Conflict(f"dead letter {letter.id} was already replayed or discarded")
    uow.session.add(DeadLetterMarkRow(
        topic=topic, partition=letter.partition, offset=letter.offset, action=Mark.DISCARDED, actor=actor,
        acted_at=uow.now(), reason=reason, event_type=letter.event_type, event_id=letter.event_id,
    ))


async def recent_replays(uow: UnitOfWork, limit: int = 20) -> list[DeadLetterReplayRow]:
    return list((await uow.session.exec(
        select(DeadLetterReplayRow).order_by(col(DeadLetterReplayRow.id).desc()).limit(limit)
    )).all())


async def replay_marks(uow: UnitOfWork, replay_id: int) -> list[DeadLetterMarkRow]:
    return list((await uow.session.exec(
        select(DeadLetterMarkRow).where(DeadLetterMarkRow.replay_id == replay_id).order_by(col(DeadLetterMarkRow.acted_at))
    )).all())


async def replay_of(uow: UnitOfWork, replay_id: int) -> DeadLetterReplayRow:
    return await _replay(uow, replay_id)


async def _replay(uow: UnitOfWork, replay_id: int) -> DeadLetterReplayRow:
    row = await uow.session.get(DeadLetterReplayRow, replay_id)
    if row is None:
        raise NotFound(f"no replay {replay_id}")
    return row


def _fields(wanted: Filter) -> dict[str, object]:
    return {"error_class": wanted.error_class, "event_type": wanted.event_type, "topic": wanted.topic, "key": wanted.key,
            "since": wanted.since, "until": wanted.until, "state": wanted.state, "through": wanted.through}


def _filter(stored: dict[str, Any]) -> Filter:
    times = {k: datetime.fromisoformat(v) if v else None for k, v in stored.items() if k in ("since", "until")}
    texts = {k: str(v or "") for k, v in stored.items() if k not in ("since", "until", "through")}
    # Replays started before the bound was kept have none: they match as they always did.
    through = stored.get("through")
    bound = tuple((int(p), int(o)) for p, o in through) if through is not None else None
    return Filter(**texts, **times, through=bound)  # type: ignore[arg-type]
