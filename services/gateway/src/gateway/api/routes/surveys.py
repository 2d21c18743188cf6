"""Survey links on the public address: `<CRM_PUBLIC_URL>/surveys/<token>` is the link feedback
puts in a survey invitation (and in the member's own list of invitations).

Both operations go to feedback's `/v1/surveys/answers/<token>` with the caller's own token, like
every forwarded screen: the link says which invitation, the member's own token who answers, and
feedback decides (another member is 403, an expired link 410, an answered one 409). The member's
app opens the link with its token; the gateway adds no rights of its own.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response

from gateway.adapters.clients import segment
from gateway.api.routes.passthrough import forward
from shared.authorize import forwarded
from shared.query_params import QUERY_CHECKED_ELSEWHERE

router = APIRouter(prefix="/surveys", tags=["surveys"], dependencies=[QUERY_CHECKED_ELSEWHERE, Depends(forwarded)])

# Feedback defines and checks the answer (ratings per dimension of the survey, NPS, comment).
AnswerBody = Annotated[dict[str, Any], Body(description="As feedback's POST /v1/surveys/answers/{token} takes it")]


def _answers(token: str) -> str:
    return f"/v1/surveys/answers/{segment(token)}"


@router.get("/{token}", summary="The questions behind a survey link, for the member it was sent to")
async def survey_form(token: str, request: Request) -> Response:
    return await forward(request, "feedback", _answers(token))


@router.post("/{token}", status_code=201, summary="Answer a survey once, as the member it was sent to")
async def answer(token: str, body: AnswerBody, request: Request) -> Response:
    return await forward(request, "feedback", _answers(token))
