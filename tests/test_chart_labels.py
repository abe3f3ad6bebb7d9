"""Charts label assumptions and choices in words, not as the variable names of the code."""

from __future__ import annotations

import pytest

from bench.report.charts import readable_name


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("list_per_page_s", "list per page (s)"),
        ("memory_mb", "memory (MB)"),
        ("keep_days", "keep (days)"),
        ("delivery_tail_share", "delivery tail share"),
        ("arch", "arch"),
    ],
)
def test_a_chart_label_spells_the_name_out_with_its_unit(name: str, label: str) -> None:
    assert readable_name(name) == label
