"""The roster page's two forms: quotas by type, and one unit's details, each effective from a month."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from monitor.core import calendar
from monitor.core.config import TYPE_LABELS, UNIT_TYPES
from monitor.core.permissions import Actor
from monitor.ingest.quotas import MAX_QUOTA, EditError, UnitChanges, set_type_quotas, update_unit
from monitor.roster.grids import Rule
from ui import common, text


def _from_month(key: str) -> str:
    """This month or one of the next twelve; months before stay as they were."""
    this = common.today().strftime("%Y-%m")
    options = calendar.month_range(this, calendar.shift_month(this, 12))
    return st.selectbox("自哪个月起生效", options, key=key, help="之前各月仍按原任务数统计；已锁定的月份不会被改动。")


def _schedule(schedule: dict[str, list[Rule]], month: str) -> str:
    """'2026-12 执行：中心 8 场（初始）…；已定的调整：站 自 2027-01 起 3 场。'"""
    now = "、".join(
        f"{TYPE_LABELS[t]} {rules[0].quota} 场（{f'自 {rules[0].from_month} 起' if rules[0].from_month else '初始'}）"
        for t, rules in schedule.items()
    )
    later = "、".join(
        f"{TYPE_LABELS[t]} 自 {r.from_month} 起 {r.quota} 场" for t, rules in schedule.items() for r in rules[1:]
    )
    return f"{month} 执行：{now}" + (f"；已定的调整：{later}" if later else "") + "。"


def quota_form(me: Actor, schedule: dict[str, list[Rule]], month: str) -> None:
    st.caption("各类单位每月应开展的活动场次；单个单位可在“修改单位”中另设。调整自所选月份起生效，之前各月不变。")
    st.caption(_schedule(schedule, month))
    with st.form("quotas"):
        cols = st.columns(3)
        values = {
            t: cols[i].number_input(
                f"{TYPE_LABELS[t]}（场/月）", min_value=0, max_value=MAX_QUOTA, value=int(schedule[t][0].quota or 0)
            )
            for i, t in enumerate(UNIT_TYPES)
        }
        month = _from_month("quota_from")
        if st.form_submit_button("保存月度任务", type="primary"):
            try:
                with common.session() as s:
                    saved = set_type_quotas(
                        session=s,
                        actor=me,
                        settings=common.settings(),
                        quotas={t: int(v) for t, v in values.items()},
                        today=common.today(),
                        from_month=month,
                    )
            except EditError as exc:
                st.error(text.md(exc))
            else:
                if not saved.changed:
                    st.info(f"没有改动：{saved.month} 起各类单位的月度任务已是所填的数。")
                else:
                    common.toast(f"月度任务已保存，自 {saved.month} 起生效", icon="✅")
                    st.rerun()


def _text(value: object) -> str:
    """A roster cell as a text box shows it: a missing value (None or NaN) is empty."""
    return value if isinstance(value, str) else ""


def unit_form(me: Actor, roster: pd.DataFrame) -> None:
    if roster.empty:
        st.info("名册为空。")
        return
    labels = {text.clean(f"{r.town}{r.name}（{r.code}）"): r.code for r in roster.itertuples()}
    choice = st.selectbox("选择单位", list(labels))
    unit = roster[roster["code"] == labels[choice]].iloc[0]
    with st.form("unit"):
        own = st.checkbox("单独设置月度任务", value=unit["quota"] == unit["quota"] and unit["quota"] is not None)
        quota = st.number_input(
            "本单位月度任务（场/月）",
            min_value=0,
            max_value=MAX_QUOTA,
            value=int(unit["monthly_quota"]),
            help=f"与{unit['type_label']}类默认任务（{int(unit['type_quota'])} 场）不同的数，即作为本单位任务；"
            "取消勾选且数目等于默认任务时，恢复按类型计。",
        )
        month = _from_month("unit_quota_from")
        a, b = st.columns(2)
        head = a.text_input("负责人", value=_text(unit["head"]))
        phone = b.text_input("联系电话", value=_text(unit["phone"]))
        active_from = a.text_input("启用月份", value=_text(unit["active_from"]), placeholder="YYYY-MM，可空")
        active_to = b.text_input("停用月份", value=_text(unit["active_to"]), placeholder="YYYY-MM，可空")
        if st.form_submit_button("保存", type="primary"):
            changes = UnitChanges(
                # A number other than the type's default is the unit's own, ticked or not.
                quota=int(quota) if own or int(quota) != int(unit["type_quota"]) else None,
                head=head,
                phone=phone,
                active_from=active_from,
                active_to=active_to,
            )
            try:
                with common.session() as s:
                    saved = update_unit(
                        session=s,
                        actor=me,
                        settings=common.settings(),
                        code=labels[choice],
                        changes=changes,
                        today=common.today(),
                        from_month=month,
                    )
            except EditError as exc:
                st.error(text.md(exc))
            else:
                if not saved.changed:
                    st.info("没有改动。")
                else:
                    common.toast("已保存", icon="✅")
                    st.rerun()
