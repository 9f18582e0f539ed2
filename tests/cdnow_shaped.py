"""A log shaped like the CDNOW sample: what a small shop's order export often looks like.

One row per order, no invoice column, four columns named as a person would name them
(``Customer, Order Date, Items, Sales ($)``), dates written ``YYYYMMDD``, and most customers
buying once. Purchases come from the BG/NBD and Gamma-Gamma processes with the parameters
published for CDNOW (Fader, Hardie & Lee 2005), through
:func:`rfm_core.ingest.synthetic.generate_bgnbd_transactions`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rfm_core.ingest.synthetic import generate_bgnbd_transactions

CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "v": 15.44}
COLUMNS = ("Customer", "Order Date", "Items", "Sales ($)")


def cdnow_shaped_log(n_customers: int, *, random_state: int = 0) -> pd.DataFrame:
    """Return a CDNOW-shaped order log of ``n_customers`` customers.

    ``Customer`` holds plain numbers (no leading zeros), ``Order Date`` the day as
    ``YYYYMMDD`` text, ``Items`` the CDs in the order (1 + Poisson(1.2)) and ``Sales ($)`` the
    order's value in dollars (the Gamma-Gamma spend, cents).
    """
    log = generate_bgnbd_transactions(n_customers, **CDNOW, random_state=random_state)
    orders = log.transactions
    rng = np.random.default_rng(random_state)
    return pd.DataFrame(
        {
            "Customer": orders["CustomerID"].astype(str).str.lstrip("0"),
            "Order Date": orders["InvoiceDate"].dt.strftime("%Y%m%d"),
            "Items": rng.poisson(1.2, len(orders)) + 1,
            "Sales ($)": orders["UnitPrice"].round(2),
        },
        columns=list(COLUMNS),
    )


def cdnow_shaped_csv(n_customers: int, *, random_state: int = 0) -> bytes:
    """:func:`cdnow_shaped_log` as the CSV bytes a user would upload."""
    return cdnow_shaped_log(n_customers, random_state=random_state).to_csv(index=False).encode()
