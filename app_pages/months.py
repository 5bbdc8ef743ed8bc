"""月份锁定: reviewed months take no more rows and no rollback."""

import streamlit as st

from monitor.core import calendar
from monitor.core.clock import local_text
from monitor.store.locks import LockError, lock_month, locks_frame, unlock_month
from ui import common, text

st.title("月份锁定")
me = common.allow("lock")
st.caption("审核完毕的月份锁定后，该月活动不能再上传或撤销；需更正时由审核人员先解锁。所有锁定、解锁都记入操作记录。")
with common.session() as s:
    locked = locks_frame(session=s, actor=me)
if locked.empty:
    st.info("目前没有锁定的月份。")
else:
    st.dataframe(
        text.table(
            locked.assign(
                locked_at=locked["locked_at"].map(lambda t: local_text(t, common.settings().timezone))
            ).rename(columns={"month": "月份", "locked_by": "锁定人", "locked_at": "锁定时间"})
        ),
        hide_index=True,
    )

last = calendar.last_finished_month(common.today())
months = list(reversed(calendar.month_range(calendar.shift_month(last, -23), last)))
left, right = st.columns(2)
with left, st.form("lock"):
    month = st.selectbox("锁定月份", [m for m in months if m not in set(locked["month"])])
    if st.form_submit_button("锁定", type="primary") and month:
        try:
            with common.session() as s:
                lock_month(session=s, month=month, actor=me)
        except LockError as exc:
            st.error(text.md(exc))
        else:
            common.toast(f"{month} 已锁定", icon="🔒")
            st.rerun()
with right, st.form("unlock"):
    month = st.selectbox("解锁月份", list(locked["month"]), placeholder="没有已锁定的月份")
    if st.form_submit_button("解锁") and month:
        try:
            with common.session() as s:
                unlock_month(session=s, month=month, actor=me)
        except LockError as exc:
            st.error(text.md(exc))
        else:
            common.toast(f"{month} 已解锁", icon="🔓")
            st.rerun()
