"""Step 1, ingest: the uploaded bytes → a table of lines with columns mapped to roles.

``io`` reads CSV, Excel and Parquet files (with the input checks) and lists the server's data
folder; ``schema`` maps the file's columns to roles and interprets ids, numbers and dates;
``synthetic`` generates seeded logs with known segments and planted anomalies (demo and tests).
"""
