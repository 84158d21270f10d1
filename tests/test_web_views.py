"""The pages' running total of a score sheet takes exactly the scores the domain's rule takes
(``domain.rules.point_score_errors``): a number within ``0 ≤ s ≤ max``, as many places as typed."""

from __future__ import annotations

from api.web.views import valid_total

POINTS = [{"code": "1.1.1", "max": "4"}, {"code": "1.1.2", "max": "3"}, {"code": "1.2.1", "max": "4"}]


def test_only_valid_scores_count_and_three_places_are_a_score():
    # 3.255 (three places, SPEC §4) + 2.5; "abc", −1 and 9 (above 4) count nothing.
    assert valid_total({"1.1.1": "3.255", "1.1.2": "2.5"}, POINTS) == "5.755"
    assert valid_total({"1.1.1": "abc", "1.1.2": "-1", "1.2.1": "9"}, POINTS) == "0"
    assert valid_total({"1.1.1": "4", "1.1.2": "", "9.9.9": "1"}, POINTS) == "4"  # blank, unknown point: nothing
