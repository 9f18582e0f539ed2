"""Table layout: every column sized, sentences wrapping, key columns in view (ui.formats)."""

from __future__ import annotations

import pandas as pd

from ui.formats import INDEX, TABLE_WIDTH, column_config, fit_widths


def fitted(frame: pd.DataFrame, **options):
    return fit_widths(frame, column_config(frame), **options)


def test_a_narrow_table_is_sized_by_its_widest_cell_or_header():
    frame = pd.DataFrame({"frequency": [1, 12], "monetary": [5.0, 1_234_567.5]})
    config, order, height = fitted(frame, index_shown=False)
    assert order == ["frequency", "monetary"]
    assert height is None
    # "Orders" is the longest thing in the first column, "1,234,567.50" in the second
    assert config["frequency"]["width"] < config["monetary"]["width"]
    assert sum(config[name]["width"] for name in order) <= TABLE_WIDTH
    assert not any(config[name].get("pinned") for name in order)


def test_sentences_take_what_is_left_and_the_rows_grow_to_wrap_them():
    reason = "last purchase 3 days ago vs median 473, frequency 61× the median (61 orders vs 1)"
    numbers = {name: [123_456.75] for name in ("recency", "frequency", "monetary", "clv")}
    frame = pd.DataFrame({"customer_id": ["11265"], "anomaly_reason": [reason * 2], **numbers})
    config, order, height = fitted(frame, index_shown=False)
    widths = [config[name]["width"] for name in order]
    assert sum(widths) == TABLE_WIDTH  # the sentence column fills what the others leave
    assert order == list(frame.columns)
    assert height is not None and height > 35  # two or more lines
    short = pd.DataFrame({"customer_id": ["1"], "anomaly_reason": ["one line"], "recency": [3]})
    assert fitted(short, index_shown=False)[2] is None


def test_a_wide_table_pins_its_first_column_and_puts_sentences_beside_it():
    frame = pd.DataFrame(
        {
            "segment": ["Champions"],
            **{f"median_{c}": [1.5] for c in ("recency", "frequency", "monetary")},
            **{f"mean_{c}": [1.5] for c in ("recency", "frequency", "monetary", "clv")},
            "share_customers": [0.5],
            "share_revenue": [0.25],
            "definition": ["R 5, F 4–5: bought recently, buy often"],
        }
    )
    config, order, _ = fitted(frame, index_shown=False)
    assert sum(config[name]["width"] for name in order) > TABLE_WIDTH
    assert order[:2] == ["segment", "definition"]
    assert config["segment"]["pinned"] is True
    assert sorted(order) == sorted(frame.columns)


def test_a_named_index_is_the_pinned_column_and_hidden_columns_stay_hidden():
    frame = pd.DataFrame(
        {f"mean_{c}": [1.5] for c in ("recency", "frequency", "monetary", "clv")} | {"x": [1]},
    ).rename_axis("segment")
    config = column_config(frame, overrides={"x": None})
    fitted_config, order, _ = fit_widths(frame, config, width=200)
    assert "x" not in order and fitted_config["x"] is None
    assert fitted_config[INDEX]["pinned"] is True
    assert all(isinstance(fitted_config[name]["width"], int) for name in [INDEX, *order])


def test_a_table_that_scrolls_sideways_says_so():
    """show_frame adds a note under a table that is wider than the page, and only then."""
    from streamlit.testing.v1 import AppTest

    def page(columns: int) -> None:
        import pandas as pd

        from ui.components import show_frame

        show_frame(pd.DataFrame({f"monetary_{i}": [123_456.75] for i in range(columns)}))

    wide = AppTest.from_function(page, args=(30,), default_timeout=60).run()
    narrow = AppTest.from_function(page, args=(2,), default_timeout=60).run()
    from ui.components import SIDEWAYS_NOTE

    assert [c.value for c in wide.caption] == [SIDEWAYS_NOTE]
    assert [c.value for c in narrow.caption] == []
