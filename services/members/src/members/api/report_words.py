"""The codes a customer's row carries (tier, value class, churn risk), and a report's yes or no (a
manager flagged lowest of the quarter), as staff read them in a download or on paper: bilingual, as
the reports head their columns ("等级 Tier") and word a contact's method ("电话 Phone"), never the
stored code or a bare English "yes". A code not listed here is shown as it is."""

from collections.abc import Mapping

from members.domain.tiers import MEMBER, VIP

TIER_WORDS = {MEMBER: "普通会员 Member", VIP: "VIP"}
VALUE_CLASS_WORDS = {"key": "重点客户 Key", "secondary": "次重点客户 Secondary", "ordinary": "普通客户 Ordinary",
                     # a class of its own: no net spend in the analytics window
                     "none": "统计窗口内无净消费 No net spend in the window"}
CHURN_RISK_WORDS = {"low": "低 Low", "medium": "中 Medium", "high": "高 High", "lost": "已流失 Lost", "unknown": "未知 Unknown"}

YES_NO_WORDS = {True: "是 Yes", False: "否 No"}


def worded(words: Mapping[str, str], code: str | None) -> str:
    """`code` as `words` word it; an empty cell for none, the code itself for one not listed."""
    return "" if code is None else words.get(code, code)


def yes_no(flag: bool) -> str:
    """A report's yes or no cell, in both languages."""
    return YES_NO_WORDS[flag]
