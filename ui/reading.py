"""识别结果: how an uploaded file was read, shown above its preview so a clerk sees it was understood."""

from __future__ import annotations

import pandas as pd
import streamlit as st


def _rows(numbers: list[int]) -> str:
    """[5, 6, 7, 9] -> 第 5–7、9 行."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return "第 " + "、".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs) + " 行"


def show(reading: dict | None) -> None:
    """The reading summary of readers.Reading.to_json, in the clerk's words."""
    if not reading:
        return
    with st.container(border=True):
        st.markdown("**识别结果**")
        lines = []
        for sheet in reading["sheets"]:
            where = f"工作表“{sheet['name']}”" if sheet["name"] else "文件"
            header = "、".join(str(r) for r in sheet["header_rows"])
            unit = "，单位取自工作表名" if sheet["unit_from_sheet"] else ""
            lines.append(f"- {where}：表头在第 {header} 行，活动 {sheet['rows']} 行{unit}")
            if sheet["filled_from_merged"]:
                filled = "、".join(f"{k} {n} 处" for k, n in sheet["filled_from_merged"].items())
                lines.append(f"  - 合并单元格已按上一行填充：{filled}")
            if sheet["unmapped"]:
                lines.append(f"  - :orange[未识别的列（不导入）：{'、'.join(sheet['unmapped'])}]")
        for skipped in reading["skipped_sheets"]:
            lines.append(f"- 跳过工作表“{skipped['name']}”：{skipped['reason']}")
        context = reading.get("context") or {}
        found = []
        source = context.get("source") or {}
        if context.get("year"):
            month = f"{context['month']}月" if context.get("month") else ""
            found.append(f"{context['year']}年{month}（{source.get('year', '')}）")
        if context.get("town"):
            found.append(f"{context['town']}（{source.get('town', '')}）")
        if found:
            lines.append("- 从标题等处读到：" + "，".join(found) + "；没有年份的日期按此补全，重名的村按此乡镇确定")
        by_reason: dict[str, list[int]] = {}
        for row in reading["skipped_rows"]:
            by_reason.setdefault(row["reason"].removesuffix("，已跳过"), []).append(int(row["row"]))
        for reason, rows in by_reason.items():
            lines.append(f"- 跳过{_rows(rows)}：{reason}")
        st.markdown("\n".join(lines))
        mapping = [
            {"工作表": sheet["name"], "文件中的列": column["header"], "识别为": column["field"]}
            for sheet in reading["sheets"]
            for column in sheet["columns"]
        ]
        if mapping:
            table = pd.DataFrame(mapping)
            if not any(sheet["name"] for sheet in reading["sheets"]):
                table = table.drop(columns=["工作表"])
            with st.expander("列的对应", expanded=False):
                st.dataframe(table, hide_index=True)
