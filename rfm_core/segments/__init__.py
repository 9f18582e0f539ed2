"""Step 4, segments: clusters, anomalous customers, projections and profiles of the RFM table.

``features`` builds the matrix the models see and ``sampling`` the seeded sample they are fitted
on when a table is large; ``clustering`` fits and compares segmenters and recommends k;
``anomalies`` flags customers who stand out, with reasons; ``embedding`` projects customers to
2-D; ``profiles`` names, describes and explains segments; ``segmentation`` runs these steps in
order for the CLI and the pages.
"""
