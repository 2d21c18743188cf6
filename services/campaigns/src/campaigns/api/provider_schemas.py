"""Bodies of the SMS provider's pushes (Alibaba Cloud SMS, HTTP batch push), as it sends them:
a JSON array of reports (`SmsReport`) or replies (`SmsUp`). Times are the provider's local time
(China), without an offset; fields we do not use are ignored."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from shared.integers import Int64
from shared.text import Text

MAX_BATCH = 1_000


class SmsReportIn(BaseModel):
    out_id: str | None = Field(default=None, max_length=64, description="Our message id, given as OutId")
    biz_id: str | None = Field(default=None, max_length=64)
    success: bool
    err_code: str | None = Field(default=None, max_length=64)
    err_msg: Text | None = Field(default=None, max_length=500)
    report_time: datetime = Field(description="yyyy-MM-dd HH:mm:ss, China time")
    send_time: datetime | None = None
    sms_size: str | None = Field(default=None, max_length=8)


class SmsUpIn(BaseModel):
    phone_number: str = Field(min_length=1, max_length=20)
    content: Text = Field(max_length=1_000)
    send_time: datetime = Field(description="yyyy-MM-dd HH:mm:ss, China time")
    sign_name: Text | None = Field(default=None, max_length=50)
    dest_code: str | None = Field(default=None, max_length=32)
    sequence_id: Int64 | None = None


SmsReports = Annotated[list[SmsReportIn], Field(max_length=MAX_BATCH)]
SmsReplies = Annotated[list[SmsUpIn], Field(max_length=MAX_BATCH)]


class ProviderAck(BaseModel):
    """What the provider expects back: code 0, or it pushes the batch again."""

    code: int = 0
    msg: str = "成功"
