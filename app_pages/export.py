"""导出台账: the ledger of the chosen period as one workbook."""

import streamlit as st

from monitor.reports.ledger import ledger_xlsx
from ui import common, text

st.title("导出台账")
me = common.allow("export")
common.demo_badge()
f = common.filters()
scope = f"{f.start} 至 {f.end}" + (f"，{text.md(f.town)}" if f.town else "，全区")
st.markdown(f"导出 **{scope}** 的活动台账，一个 Excel 文件含以下工作表：")
st.markdown(
    "- **汇总**：开展场次、任务数、完成率、封顶完成率、达标率，分类型\n"
    "- **乡镇**：各乡镇（街道）完成情况\n"
    "- **单位月度**：单位 × 月份，每格为“开展/任务 状态”\n"
    "- **未达标**：未完成月度任务的单位月份\n"
    "- **约谈**：截至期末连续 2 个月及以上未完成任务的单位\n"
    "- **明细**：期间全部活动"
)


def data() -> bytes:
    return common.cached(ledger_xlsx, query=f, min_streak=common.settings().interview_min_streak)


st.caption("点击下载时生成文件，全年全区约需数秒。")
common.xlsx_button(
    "下载台账（Excel）", data, f"文明实践活动台账_{f.start}_{f.end}{('_' + f.town) if f.town else ''}.xlsx"
)
