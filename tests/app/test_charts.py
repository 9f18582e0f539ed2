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


def _sample_before(frame, *, keep=None, size=5_000, random_state=0):
    """sample_for_display as it was before it worked on positions (the reference)."""
    if len(frame) <= size:
        return frame
    kept = frame[keep.reindex(frame.index, fill_value=False)] if keep is not None else frame[:0]
    rest = frame.drop(kept.index)
    room = max(size - len(kept), 0)
    return pd.concat([kept, rest.sample(n=min(room, len(rest)), random_state=random_state)])


def _customers(n: int, n_flagged: int) -> pd.DataFrame:
    import numpy as np

    rng = np.random.default_rng(3)
    flagged = np.zeros(n, dtype=bool)
    flagged[rng.choice(n, n_flagged, replace=False)] = True
    return pd.DataFrame(
        {"recency": rng.integers(0, 400, n), "frequency": rng.integers(1, 30, n),
         "monetary": rng.gamma(2.0, 50.0, n).round(2), "anomaly": flagged,
         "anomaly_score": rng.random(n), "anomaly_reason": np.where(flagged, "<b>odd</b>", ""),
         "anomaly_category": np.where(flagged, "whale", "")},
        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"),
    )  # fmt: skip


def test_the_display_sample_is_the_one_drawn_before_unless_kept_rows_are_capped() -> None:
    for n, n_flagged, size in ((300, 20, 500), (8_000, 300, 5_000), (8_000, 6_000, 5_000)):
        frame = _customers(n, n_flagged)
        expected = _sample_before(frame, keep=frame["anomaly"], size=size)
        drawn = sample_for_display(frame, keep=frame["anomaly"], size=size)
        pd.testing.assert_frame_equal(drawn, expected)
    frame = _customers(8_000, 300)
    pd.testing.assert_frame_equal(sample_for_display(frame), _sample_before(frame))


def test_the_display_sample_caps_the_kept_rows_and_fills_with_the_others() -> None:
    from ui.charts.base import drawn_counts

    frame = _customers(8_000, 3_000)
    drawn = sample_for_display(frame, keep=frame["anomaly"], size=1_000, keep_at_most=400)
    assert drawn["anomaly"].sum() == 400 and len(drawn) == 1_000
    assert drawn.index.is_unique and drawn.index.isin(frame.index).all()
    assert drawn_counts(8_000, 3_000, size=1_000, keep_at_most=400) == (400, 600)
    # the capped kept rows keep the frame's order, and come before the others
    kept = drawn[drawn["anomaly"]]
    assert drawn.index[:400].equals(kept.index)
    assert (
        frame.index.get_indexer(kept.index) == sorted(frame.index.get_indexer(kept.index))
    ).all()
    # fewer kept rows than the cap: all stay
    few = sample_for_display(frame, keep=frame["anomaly"], size=5_000, keep_at_most=4_000)
    assert few["anomaly"].sum() == 3_000 and len(few) == 5_000


def _points(figure) -> pd.DataFrame:
    import numpy as np

    rows = [
        pd.DataFrame(np.asarray(trace.customdata), columns=["id", "r", "f", "m", "reason"]).assign(
            flag=trace.name, x=list(trace.x), y=list(trace.y)
        )
        for trace in figure.data
    ]
    return pd.concat(rows, ignore_index=True)


def test_the_scatters_draw_the_points_drawn_before_up_to_half_flagged() -> None:
    from ui.charts.anomalies import drawn, flag_scatters
    from ui.charts.base import escaped
    from ui.labels import FLAG_LABELS

    customers = _customers(8_000, 2_000)
    # the figures as they were built before: the flag mapped, then every customer sampled
    view = customers.copy()
    view["flag"] = view["anomaly"].map(FLAG_LABELS)
    before = _sample_before(view, keep=view["anomaly"]).reset_index()
    before = escaped(before, ["customer_id", "anomaly_reason"])
    before["_recency_drawn"], before["_monetary_drawn"] = on_log_axes(before)
    before = before.sort_values("anomaly")
    for axes, figure in flag_scatters(customers).items():
        x, y = axes.split("_")
        names = {"recency": "_recency_drawn", "monetary": "_monetary_drawn"}
        expected = pd.concat(
            [group.assign(x=group[names.get(x, x)], y=group[names.get(y, y)])
             for _, group in before.groupby("flag", sort=False)], ignore_index=True,
        )  # fmt: skip
        points = _points(figure)
        assert points["id"].tolist() == expected["customer_id"].tolist()
        assert points["reason"].tolist() == expected["anomaly_reason"].tolist()
        assert points["x"].tolist() == expected["x"].tolist()
        assert points["y"].tolist() == expected["y"].tolist()
        assert points["flag"].tolist() == expected["flag"].tolist()
    assert drawn(8_000, 2_000) == (2_000, 3_000)


def test_the_scatters_draw_at_most_half_flagged_when_there_are_many() -> None:
    from ui.charts.anomalies import MAX_FLAGGED_DRAWN, drawn, flag_scatters
    from ui.labels import FLAG_LABELS

    customers = _customers(20_000, 6_000)
    flagged_word = FLAG_LABELS[True]
    for figure in flag_scatters(customers).values():
        points = _points(figure)
        assert len(points) == 5_000
        assert (points["flag"] == flagged_word).sum() == MAX_FLAGGED_DRAWN
        assert points["id"].is_unique
    assert drawn(20_000, 6_000) == (MAX_FLAGGED_DRAWN, 5_000 - MAX_FLAGGED_DRAWN)
