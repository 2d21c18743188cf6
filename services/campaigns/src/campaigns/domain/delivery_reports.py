"""What a provider's delivery report does to a message. Reports can come twice, late, or before
the dispatch that handed the message over has committed, so the rule only ever moves forward:

- `sent` becomes `delivered` or `failed` (with the provider's code and description);
- a message still waiting for a retry (`queued`, `deferred`: the hand-over raised, e.g. a timeout,
  though the provider took it) becomes `delivered` on a delivered report, which stops the retry
  from sending it twice; a failure report leaves it to its retries;
- `delivered`, `failed` and `cancelled` are final: a repeated or contradicting report changes
  nothing.
"""

from campaigns.domain.messages import PENDING, Status


def after_report(status: Status, delivered: bool) -> Status | None:
    """The status a report moves a message in `status` to, or None when it changes nothing."""
    if status is Status.SENT:
        return Status.DELIVERED if delivered else Status.FAILED
    if status in PENDING and delivered:
        return Status.DELIVERED
    return None
