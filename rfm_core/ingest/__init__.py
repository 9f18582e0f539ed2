"""Step 1, ingest: the uploaded bytes → a table of lines with columns mapped to roles.

``io`` is the entry point: it reads a file's bytes with the reader its suffix calls for,
``delimited`` (CSV and other delimited text) or ``excel`` (workbooks, after the zip-bomb and
encryption checks), or as Parquet; ``formats`` holds what those readers share. ``folder`` lists
the server's data folder and opens only what it lists. ``schema`` maps the file's columns to roles
and interprets ids, numbers and dates; ``synthetic`` generates seeded logs with known segments and
planted anomalies (demo and tests).
"""
