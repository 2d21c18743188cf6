"""Feedback service. Complaints workflow, service recovery, satisfaction surveys, comment book."""

from pathlib import Path

from fastapi import FastAPI

from feedback.adapters.profiles import member_facts
from feedback.api.routes import comment_book, complaints, export, surveys
from feedback.config import Settings, get_settings
from feedback.consumers import batch_handlers, handlers
from feedback.jobs import scheduled_jobs
from shared.clock import Clock, utc_now
from shared.service import ServiceSpec, build_service_app


def create_app(settings: Settings | None = None, clock: Clock = utc_now) -> FastAPI:
    """`clock` is the time routes, event handlers and the escalation route use; tests pass their own."""
    settings = settings or get_settings()
    return build_service_app(
        settings,
        ServiceSpec(
            title="CRM feedback",
            description="Complaints workflow with deadlines and escalation, service recovery, satisfaction "
                        "surveys and the comment book (意见簿).",
            routers=[complaints.router, surveys.router, comment_book.router, export.router],
            handlers=handlers(settings, clock),
            batch_handlers=batch_handlers(settings, clock),
            jobs=scheduled_jobs(settings),
            migrations=Path(__file__).parent / "migrations",
            # Every `{member_id}` route, and a member token's own erasure, are checked against these.
            member_facts=member_facts,
        ),
        clock=clock,
    )
