"""The only code that knows both Streamlit and rfm_core: cached calls, session state, widgets."""
