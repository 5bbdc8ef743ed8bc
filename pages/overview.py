import streamlit as st
from sqlmodel import Session

from monitor import metrics
from monitor.config import Settings
from monitor.db import get_engine, init_db
from monitor.importer import today_in

settings = Settings.from_env()
engine = get_engine(settings.database_url)
init_db(engine)
with Session(engine) as session:
    end = metrics.default_month(session=session, today=today_in(settings))
    start = end[:4] + "-01"
    doc = metrics.report(session=session, start=start, end=end).to_json()

st.title("总览")
st.caption(f"{start} 至 {end}")
cols = st.columns(3)
cols[0].metric("开展活动（场次）", doc["held"])
cols[1].metric("任务数（场次）", doc["required"])
rate = doc["completion_rate"]
cols[2].metric("完成率", "—" if rate is None else f"{rate * 100:.2f}%")
