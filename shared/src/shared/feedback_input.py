"""What customers and staff write on complaints, ratings and surveys, with the limits feedback keeps
them to: one home for feedback's API and for the member app's bodies at the gateway, so that the
app's document says what feedback accepts and a value it would refuse is refused at the first door,
with the same 422 naming the field."""

from typing import Annotated, Literal

from pydantic import StringConstraints

from shared.text import NonBlankText

# What happened, in the customer's words (or the desk's, taking them down).
ComplaintDescription = Annotated[NonBlankText, StringConstraints(max_length=2000)]
# Why a resolved or closed complaint is opened again: the customer came back.
ReopenReason = Annotated[NonBlankText, StringConstraints(max_length=200)]
# A few words with the score a customer gives the handling of their complaint.
RatingComment = Annotated[NonBlankText, StringConstraints(max_length=500)]
# The free comment at the end of a satisfaction survey.
SurveyComment = Annotated[NonBlankText, StringConstraints(max_length=1000)]
# What a satisfaction survey asks the customer to score.
Dimension = Literal["product_quality", "service", "price", "store_environment", "after_sales"]
