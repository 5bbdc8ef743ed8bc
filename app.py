"""Entry point: registers the pages. Nothing else lives here."""

import streamlit as st

st.set_page_config(page_title="文明实践活动监测", page_icon="🏮", layout="wide")

pages = [st.Page("pages/overview.py", title="总览", icon="📊", default=True)]
st.navigation(pages).run()
