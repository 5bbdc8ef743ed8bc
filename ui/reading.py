"""识别结果: how an uploaded file was read, shown above its preview so a clerk sees it was understood."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from monitor.core.issues import Issue
from ui.text import md, table


def _rows(numbers: list[int]) -> str:
    """[5, 6, 7, 9] -> 第 5–7、9 行."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return "第 " + "、".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs) + " 行"


def _hidden(row: dict) -> bool:
    return str(row["reason"]).startswith("已隐藏")


def show(reading: dict | None) -> None:
    """The reading summary of readers.Reading.to_json, in the clerk's words."""
    if not reading:
        return
    with st.container(border=True):
        st.markdown("**识别结果**")
        lines = []
        for sheet in reading["sheets"]:
            where = f"工作表“{md(sheet['name'])}”" if sheet["name"] else "文件"
            if sheet.get("block"):
                where += (
                    "右侧的第二个表格（表头重复）" if sheet["block"] == 1 else f"右侧的第 {sheet['block'] + 1} 个表格"
                )
            header = "、".join(str(r) for r in sheet["header_rows"])
            unit = "，单位取自工作表名" if sheet["unit_from_sheet"] else ""
            lines.append(f"- {where}：表头在第 {header} 行，活动 {sheet['rows']} 行{unit}")
            if sheet["filled_from_merged"]:
                filled = "、".join(f"{k} {n} 处" for k, n in sheet["filled_from_merged"].items())
                lines.append(f"  - 合并单元格已按上一行填充：{filled}")
            if sheet["unmapped"]:
                lines.append(f"  - :orange[未识别的列（不导入）：{md('、'.join(sheet['unmapped']))}]")
            for unused in sheet.get("unused") or []:
                lines.append(f"  - :orange[{md(unused)}]")
        for skipped in reading["skipped_sheets"]:
            lines.append(f"- 跳过工作表“{md(skipped['name'])}”：{md(skipped['reason'])}")
        context = reading.get("context") or {}
        found = []
        source = context.get("source") or {}
        if context.get("year"):
            month = f"{context['month']}月" if context.get("month") else ""
            found.append(f"{context['year']}年{month}（{md(source.get('year', ''))}）")
        if context.get("town"):
            found.append(f"{md(context['town'])}（{md(source.get('town', ''))}）")
        if found:
            lines.append("- 从标题等处读到：" + "，".join(found) + "；没有年份的日期按此补全，重名的村按此乡镇确定")
        by_reason: dict[str, list[int]] = {}
        for row in reading["skipped_rows"]:
            by_reason.setdefault(row["reason"].removesuffix("，已跳过"), []).append(int(row["row"]))
        for reason, rows in by_reason.items():
            lines.append(f"- 跳过{_rows(rows)}：{md(reason)}")
        photos = reading.get("photos")
        if photos:
            lines.append(f"- 文件内照片 {photos['pictures']} 张，已对应 {photos['activities']} 项活动")
        st.markdown("\n".join(lines))
        aside = [row for row in reading["skipped_rows"] if row.get("content")]
        if aside:
            with st.expander(f"未导入的行及其内容（{len(aside)} 行）", expanded=any(_hidden(r) for r in aside)):
                st.dataframe(
                    table(
                        pd.DataFrame(
                            [
                                {"工作表": r["sheet"], "行号": r["row"], "原因": r["reason"], "内容": r["content"]}
                                for r in aside
                            ]
                        )
                    ),
                    hide_index=True,
                )
        typed = reading.get("as_typed") or []
        if typed:
            with st.expander(f"按原文读取的单元格（{len(typed)} 处，原文随活动保存）", expanded=False):
                st.dataframe(
                    table(
                        pd.DataFrame(
                            [
                                {
                                    "工作表": t["sheet"],
                                    "行号": t["row"],
                                    "列": t["column"],
                                    "原文": t["value"],
                                    "读作": t["read"],
                                }
                                for t in typed
                            ]
                        )
                    ),
                    hide_index=True,
                )
        mapping = [
            {"工作表": sheet["name"], "文件中的列": column["header"], "识别为": column["field"]}
            for sheet in reading["sheets"]
            for column in sheet["columns"]
        ]
        if mapping:
            columns = pd.DataFrame(mapping)
            if not any(sheet["name"] for sheet in reading["sheets"]):
                columns = columns.drop(columns=["工作表"])
            with st.expander("列的对应", expanded=False):
                st.dataframe(
                    table(columns), hide_index=True, column_config={"提示": st.column_config.TextColumn(width="large")}
                )


def notes(warnings: list[Issue]) -> None:
    """The preview's warnings on rows that are imported all the same, as text in a table (never as
    markup: they quote what the clerk typed). Rows set aside and dates read as typed are in 识别结果."""
    shown = [w for w in warnings if w.code not in ("skipped_row", "date_as_typed")]
    if not shown:
        return
    st.caption("提示（这些行照常导入，请核对）：")
    listed = pd.DataFrame([{"工作表": w.sheet, "行号": w.row, "提示": w.message} for w in shown])
    if not listed["工作表"].any():
        listed = listed.drop(columns=["工作表"])
    st.dataframe(table(listed), hide_index=True, column_config={"提示": st.column_config.TextColumn(width="large")})
