"""Rows of the console's operations: what was done to each dead letter (replayed or discarded, by
whom, when, with what result), and each replay an operator started (its filter, the dry run's
count, its progress), the audit trail of dead-letter handling."""

from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from shared.columns import UtcDateTime


class DeadLetterMarkRow(SQLModel, table=True):
    __tablename__ = "dead_letter_mark"

    # The dead letter's place in the dead-letter topic: one mark per record, so a record is
    # replayed (or discarded) once, whoever tries again.
    topic: str = Field(primary_key=True, max_length=200)
    partition: int = Field(primary_key=True)
    offset: int = Field(sa_column=Column(BigInteger(), primary_key=True))
    action: str = Field(max_length=16)
    replay_id: int | None = Field(default=None, index=True)
    actor: str = Field(max_length=100)
    acted_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    reason: str = Field(default="", max_length=500)
    # For a replay: where the broker acknowledged the record ("<topic>[<partition>]@<offset>").
    result: str = Field(default="", max_length=300)
    event_type: str = Field(default="", max_length=200)
    event_id: str = Field(default="", max_length=200)


class DeadLetterReplayRow(SQLModel, table=True):
    __tablename__ = "dead_letter_replay"

    id: int | None = Field(default=None, primary_key=True)
    requested_by: str = Field(max_length=100)
    requested_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    # What was asked: the filter (JSON of its fields) or the selected ids, and the dry run's count.
    filter_json: str = Field(default="{}", max_length=2000)
    selection: str = Field(default="", max_length=20000)
    dry_run_count: int = 0
    replayed: int = 0
    skipped: int = 0
    # running, finished, interrupted (resumable: the rest of its records are replayed on resume)
    state: str = Field(max_length=16)
    last_error: str = Field(default="", max_length=500)
    finished_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class EventFlowSampleRow(SQLModel, table=True):
    """One figure of the event flow at one moment, sampled by the `event-flow-sample` job for the
    24-hour history: a consumer group's lag (`kind` "lag", `subject` the group) or a service's
    outbox (`kind` "outbox", `subject` the service)."""

    __tablename__ = "event_flow_sample"

    id: int | None = Field(default=None, primary_key=True)
    sampled_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))
    kind: str = Field(max_length=16)
    subject: str = Field(max_length=200)
    messages: int = Field(sa_column=Column(BigInteger(), nullable=False))
    seconds: int = Field(sa_column=Column(BigInteger(), nullable=False))


CONSOLE_TABLES = frozenset({"dead_letter_mark", "dead_letter_replay", "event_flow_sample"})
