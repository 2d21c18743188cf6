"""The body of a member's data export from feedback: everything it keeps about them."""

from datetime import datetime

from pydantic import BaseModel

from feedback.api.schemas import CommentPublic, ComplaintPublic, InvitationStatus


class SurveyAnswer(BaseModel):
    """The member's answer to a survey: the ratings per dimension, the NPS and their comment."""

    product_quality: int | None
    service: int | None
    price: int | None
    store_environment: int | None
    after_sales: int | None
    nps: int | None
    comment: str | None
    answered_at: datetime


class SurveyExport(InvitationStatus):
    template_id: str
    answer: SurveyAnswer | None


class FeedbackExport(BaseModel):
    member_id: str
    exported_at: datetime
    # Their complaints in full: description, resolution note, rating and its comment, and the
    # history (reopen reasons and each round's resolution note among it) and escalations.
    complaints: list[ComplaintPublic]
    # Every survey invitation sent to them, with their answer if they gave one.
    surveys: list[SurveyExport]
    # Comment book entries naming them, or filed under one of their complaints.
    comment_book: list[CommentPublic]
