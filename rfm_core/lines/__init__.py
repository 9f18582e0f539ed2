"""Step 2, lines: which transaction lines count, and their aggregation per customer.

``reasons`` names why a line is removed; ``cleaning`` flags every line with the first rule that
removes it (or keeps it); ``aggregate`` turns the kept lines into one row per customer and counts
the removal reasons in the same scan.
"""
