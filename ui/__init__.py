"""Streamlit glue shared by app.py and the pages: settings, cached calls, filters, formatting."""
