"""Step 3, customers: one row per customer — RFM values, scores, rule segments and their trends.

``rfm`` scores the aggregated lines and assigns rule segments; ``pipeline`` runs ingest → lines
→ customers in memory; ``engine`` runs the same expressions where the data lives (DuckDB, Spark);
``trends`` and ``migration`` follow revenue, cohorts and segments through time.
"""
