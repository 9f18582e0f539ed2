"""Pure core of the RFM segmentation dashboard: load, map, clean, aggregate, segment.

Nothing in this package imports Streamlit; the pages call these functions through ``ui``.
"""

from rfm_core.errors import RfmError

__all__ = ["RfmError", "__version__"]
__version__ = "0.1.0"
