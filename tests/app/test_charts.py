"""Pure helpers of ui/charts: log-axis values and the display sample."""

import pandas as pd

from ui.charts.base import LOG_FLOOR, drawn_at_floor, on_log_axes, sample_for_display


def test_log_axes_move_recency_up_a_day_and_floor_monetary() -> None:
    frame = pd.DataFrame({"recency": [0, 3, -1], "monetary": [0.0, 12.5, -4.0]})
    recency, monetary = on_log_axes(frame)
    assert recency.tolist() == [1, 4, 1]
    assert monetary.tolist() == [LOG_FLOOR, 12.5, LOG_FLOOR]
    assert drawn_at_floor(frame) == 2
    assert frame["monetary"].tolist() == [0.0, 12.5, -4.0]  # the input is left as it was


def test_the_display_sample_keeps_every_marked_row() -> None:
    frame = pd.DataFrame({"x": range(100)}, index=[f"c{i}" for i in range(100)])
    keep = pd.Series(frame["x"] >= 95, index=frame.index)
    drawn = sample_for_display(frame, keep=keep, size=10)
    assert len(drawn) == 10
    assert {f"c{i}" for i in range(95, 100)} <= set(drawn.index)
    assert sample_for_display(frame, size=200) is frame


def test_the_country_bars_say_top_15_only_when_there_are_more():
    from ui.charts.trends import country_bars

    def countries(n: int) -> pd.DataFrame:
        revenue = [1_000.0 * (n - i) for i in range(n)]
        return pd.DataFrame(
            {"country": [f"C{i}" for i in range(n)], "revenue": revenue,
             "share_revenue": [r / sum(revenue) for r in revenue]}
        )  # fmt: skip

    assert country_bars(countries(12)).layout.title.text == "Revenue by country"
    assert country_bars(countries(40)).layout.title.text == "Revenue by country (top 15)"
    assert len(country_bars(countries(40)).data[0].y) == 15
