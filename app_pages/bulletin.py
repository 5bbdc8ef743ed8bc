"""通报: the department's write-up of the sidebar's period, previewed, then downloaded as Word."""

import streamlit as st

from monitor.figures.periods import OpenPeriod
from monitor.reports.bulletin import NUMBERS, bulletin
from monitor.reports.bulletin_docx import bulletin_docx
from ui import common, text

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

st.title("通报")
me = common.allow("bulletin")
common.demo_badge()
f = common.filters()
try:
    content = common.cached(bulletin, query=f, today=common.today())
except OpenPeriod as exc:  # every month of the period is still open for reporting
    st.info(text.md(exc), icon=":material/schedule:")
    st.stop()
st.caption("按侧边栏所选期间、乡镇和单位类型生成；下载的 Word 文件可在 WPS 或 Word 中继续修改。")
charts = st.checkbox("插入图表（生成约需数秒）", value=True)


def document() -> bytes:
    return bulletin_docx(content, with_charts=charts)


st.download_button(
    "下载通报（Word）",
    data=document,
    file_name=f"{content.title}.docx",
    mime=DOCX_MIME,
    on_click="ignore",
    type="primary",
    icon=":material/description:",
)

with st.container(border=True):
    st.markdown(f"#### {text.md(content.title)}")
    st.markdown("各乡镇（街道）：")
    st.markdown(f"**{NUMBERS[0]}、总体情况**")
    for paragraph in content.overall:
        st.markdown(text.md(paragraph))
    st.markdown(f"**{NUMBERS[1]}、各乡镇情况**")
    if content.towns.empty:
        st.markdown("所选范围内没有乡镇（街道）数据。")
    else:
        st.dataframe(text.table(content.towns), hide_index=True)
    st.markdown(f"**{NUMBERS[2]}、存在问题**")
    for line in content.problems():
        st.markdown(text.md(line))  # units' names and heads, as typed
    st.markdown(f"**{NUMBERS[3]}、下步要求**")
    st.markdown(text.md(content.requirements))
    st.markdown(f"{text.md(content.issuer)}　{content.issued_on}")
