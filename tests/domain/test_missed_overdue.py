"""A self-review recorded as not submitted is overdue (逾期未交) only when its deadline had passed
(issue 11): closed by the organizer before the deadline, or with no deadline, it is "not
submitted, the stage closed"."""

from domain.stages import missed_overdue

DEADLINE = "2026-03-31T18:00:00+08:00"


def test_overdue_only_past_the_deadline():
    assert missed_overdue(DEADLINE, "2026-03-31T10:00:00+00:00") is True  # 18:00 Beijing = 10:00 UTC: at the deadline
    assert missed_overdue(DEADLINE, "2026-04-01T09:00:00+08:00") is True
    assert missed_overdue(DEADLINE, "2026-03-31T09:59:59+00:00") is False  # one second before it, in another zone
    assert missed_overdue(DEADLINE, "2026-03-20T09:00:00+08:00") is False  # closed early


def test_no_deadline_or_no_time_is_never_overdue():
    assert missed_overdue(None, "2026-04-01T09:00:00+08:00") is False
    assert missed_overdue(DEADLINE, None) is False
    assert missed_overdue("not a time", "2026-04-01T09:00:00+08:00") is False
    assert missed_overdue(DEADLINE, "2026-04-01T09:00:00") is False  # a time without a zone cannot be compared
