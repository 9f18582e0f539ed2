"""Step 5, outputs: what leaves the app — CSV exports, reports and saved (signed) models.

``export`` writes the customer tables and JSON summaries; ``reports`` the workbook, the HTML
report and the zip of one CSV per segment; ``persistence`` signs, saves, verifies, loads and
scores with model bundles; ``unpickling`` reads a verified bundle's payload, classes of modules
that moved since the bundle was saved included.
"""
