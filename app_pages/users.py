"""用户管理: accounts, roles and townships; add, disable, reset a password."""

import streamlit as st

from monitor.auth import (
    ROLE_LABELS,
    ROLES,
    UserError,
    add_user,
    disable_user,
    enable_user,
    set_password,
    users_frame,
)
from monitor.clock import local_text
from monitor.units import towns
from ui import common

st.title("用户管理")
me = common.allow("users")
with common.session() as s:
    frame = users_frame(session=s)
    town_names = towns(session=s)
st.dataframe(
    frame.assign(
        role=frame["role"].map(ROLE_LABELS),
        disabled=frame["disabled"].map({True: "已停用", False: "正常"}),
        created_at=frame["created_at"].map(lambda t: local_text(t, common.settings().timezone)),
    ).rename(
        columns={"name": "用户名", "role": "角色", "town": "所属乡镇", "disabled": "状态", "created_at": "创建时间"}
    ),
    hide_index=True,
)

add, manage = st.columns(2)
with add, st.form("add_user"):
    st.markdown("**新增用户**")
    name = st.text_input("用户名")
    role = st.selectbox("角色", ROLES, format_func=ROLE_LABELS.get, index=2)
    town = st.selectbox("所属乡镇（乡镇经办人必选）", ["", *town_names], format_func=lambda t: t or "（不属于乡镇）")
    password = st.text_input("初始密码（至少 8 位）", type="password")
    if st.form_submit_button("新增", type="primary"):
        try:
            with common.session() as s:
                add_user(session=s, actor=me, name=name, role=role, town=town, password=password)
        except UserError as exc:
            st.error(str(exc))
        else:
            st.toast(f"已新增用户 {name}", icon="✅")
            st.rerun()
with manage, st.form("manage_user"):
    st.markdown("**停用、启用或重设密码**")
    who = st.selectbox("用户", [n for n in frame["name"] if n != me.name], placeholder="没有其他用户")
    new_password = st.text_input("新密码（重设时填写）", type="password")
    reset, disable, enable = st.columns(3)
    do_reset = reset.form_submit_button("重设密码")
    do_disable = disable.form_submit_button("停用账号")
    do_enable = enable.form_submit_button("启用账号")
    if who and (do_reset or do_disable or do_enable):
        try:
            with common.session() as s:
                if do_reset:
                    set_password(session=s, actor=me, name=who, password=new_password)
                    done = f"已重设 {who} 的密码"
                elif do_disable:
                    disable_user(session=s, actor=me, name=who)
                    done = f"已停用 {who}"
                else:
                    enable_user(session=s, actor=me, name=who)
                    done = f"已启用 {who}"
        except UserError as exc:
            st.error(str(exc))
        else:
            st.toast(done, icon="✅")
            st.rerun()
