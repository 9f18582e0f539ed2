"""A tiny hand-written log whose segments at two dates, trends and cohorts were worked out by hand.

One line per order, quantity 1, at 15:00. Customer: price, country, product, order dates (2024).

    A  10.00  United Kingdom  P1  01-10 02-10 03-01 03-31
    B  20.00  United Kingdom  P2  01-20 03-10 | 04-10 05-10 06-20
    C   5.00  France          P1  01-05 02-05 02-25 | 06-29
    D   7.00  Germany         P1  02-15
    E   3.00  United Kingdom  P1  01-03 | 05-15
    F  50.00  United Kingdom  P1  | 06-25
    G  11.00  United Kingdom  P1  | 04-05 06-28
    (plus a cancellation of A on 04-02 and an order without a customer id on 06-29, both removed)

Snapshot of 2024-03-31 (lines up to that day included; A's order of 03-31 counts), five
customers, so each score is 1 + the number of customers strictly worse:

    recency  A 0, B 21, C 35, D 45, E 88         → R  A 5, B 4, C 3, D 2, E 1
    orders   A 4, C 3, B 2, D 1, E 1             → F  A 5, C 4, B 3, D 1, E 1
    segment  A Champions, B Potential Loyalist, C Loyal, D Hibernating, E Lost

Snapshot of 2024-06-29 (the last purchase date), seven customers, score 1 + ⌊5 × worse / 7⌋:

    recency  C 0, G 1, F 4, B 9, E 45, A 90, D 135   → R  C 5, G 4, F 3, B 3, E 2, A 1, D 1
    orders   B 5, A 4, C 4, E 2, G 2, F 1, D 1       → F  B 5, A 3, C 3, E 2, G 2, F 1, D 1
    segment  A At Risk, B Loyal, C Potential Loyalist, D Lost, E Hibernating,
             F About to Sleep, G Potential Loyalist

Moves (rank = order of DEFAULT_SEGMENTS): A worse (and lapsed), B better, C worse, D worse (and
lapsed), E better, F and G new. Monetary on 06-29: A 40, B 100, C 20, D 7, E 6, F 50, G 22 (245).
"""

from __future__ import annotations

import datetime as dt

ORDERS = {
    "A": (10.0, "United Kingdom", "P1", ["01-10", "02-10", "03-01", "03-31"]),
    "B": (20.0, "United Kingdom", "P2", ["01-20", "03-10", "04-10", "05-10", "06-20"]),
    "C": (5.0, "France", "P1", ["01-05", "02-05", "02-25", "06-29"]),
    "D": (7.0, "Germany", "P1", ["02-15"]),
    "E": (3.0, "United Kingdom", "P1", ["01-03", "05-15"]),
    "F": (50.0, "United Kingdom", "P1", ["06-25"]),
    "G": (11.0, "United Kingdom", "P1", ["04-05", "06-28"]),
}
HEADER = "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
REMOVED = [
    "C9001,P1,-1,2024-04-02 15:00,10.0,A,United Kingdom",
    "9002,P1,1,2024-06-29 16:00,99.0,,United Kingdom",
]
DATE_FROM = dt.date(2024, 3, 31)
DATE_TO = dt.date(2024, 6, 29)

SEGMENT_FROM = {
    "A": "Champions", "B": "Potential Loyalist", "C": "Loyal", "D": "Hibernating", "E": "Lost",
}  # fmt: skip
SEGMENT_TO = {
    "A": "At Risk", "B": "Loyal", "C": "Potential Loyalist", "D": "Lost", "E": "Hibernating",
    "F": "About to Sleep", "G": "Potential Loyalist",
}  # fmt: skip
MOVED = {"A": "worse", "B": "better", "C": "worse", "D": "worse", "E": "better", "F": "new",
         "G": "new"}  # fmt: skip
MONETARY_TO = {"A": 40.0, "B": 100.0, "C": 20.0, "D": 7.0, "E": 6.0, "F": 50.0, "G": 22.0}


def order_lines(extra: tuple[str, ...] = ()) -> str:
    """The log as CSV text, with ``extra`` lines (same columns) appended."""
    rows, number = [HEADER], 1000
    for customer, (price, country, product, dates) in ORDERS.items():
        for day in dates:
            number += 1
            rows.append(f"{number},{product},1,2024-{day} 15:00,{price},{customer},{country}")
    return "\n".join([*rows, *REMOVED, *extra]) + "\n"
