"""Why a line is removed: the reasons, in the order the cleaning rules apply them.

Every input line is kept or counted under exactly one of :data:`REASONS` (the first rule that
matches, in this order), so ``rows in = rows kept + Σ rows removed``. The names are the codes of
the cleaning report, the CLI's JSON and the exports; the descriptions are what a person reads.
"""

from __future__ import annotations

__all__ = [
    "BEFORE_DUPLICATES",
    "COPIES",
    "KEPT",
    "REASONS",
    "REASON_CODES",
    "RETURN_REASONS",
]

# reason → what it means, in the order the rules are applied
REASONS: dict[str, str] = {
    "missing_customer_id": "no customer id: the line cannot be attributed to a customer",
    "unparseable_date": "the date is missing or is not a date",
    "invalid_number": "quantity, price or amount is missing or not a number",
    "duplicate_row": "exact copy of an earlier row (every column equal)",
    "after_reference_date": "dated after the reference date: not yet observed",
    "outside_date_window": "outside the chosen date window",
    "country_excluded": "country not among the chosen countries",
    "cancellation": "cancellation: invoice number starts with 'C'",
    "non_positive_quantity": "quantity is zero or negative (return or correction)",
    "non_positive_price": "unit price or amount is zero or negative",
    "quantity_cap": "quantity above the chosen cap",
    "line_amount_cap": "line amount above the chosen cap",
    "return_without_purchase": "a return by a customer with no purchase left after cleaning",
    "customer_zscore_outlier": "customer's recency, frequency or monetary z-score above the limit",
}

# reason → a small integer, in rule order (0 is a kept line): what the engines compute and group
# by, the names being given only to the few rows of a report or a written line
KEPT = 0
REASON_CODES: dict[str, int] = {reason: code for code, reason in enumerate(REASONS, start=1)}

RETURN_REASONS = ("cancellation", "non_positive_quantity")
# reasons checked before duplicates: every copy of such a row is removed for this reason
BEFORE_DUPLICATES = ("missing_customer_id", "unparseable_date", "invalid_number")
# the column an engine adds when it collapses exact copies first (see rfm_core.customers.engine),
# named so that no column of a user's file is taken for it
COPIES = "__rfm_copies"
