"""用户管理: accounts, roles and townships; add, disable, reset a password."""

import streamlit as st

from monitor.admin.accounts import UserError, add_user, disable_user, enable_user, set_password, users_frame
from monitor.admin.sessions import end_session_by_id, last_sign_ins, open_sessions
from monitor.core.clock import local_text
from monitor.core.permissions import ROLE_LABELS, ROLES
from monitor.roster.units import towns
from ui import common, text

st.title("用户管理")
me = common.allow("users")
zone = common.settings().timezone
with common.session() as s:
    frame = users_frame(session=s, actor=me)
    town_names = towns(session=s)
    last = last_sign_ins(session=s, actor=me)
    sessions = open_sessions(session=s, actor=me)
open_count = sessions["name"].value_counts()
st.dataframe(
    text.table(
        frame.assign(
            role=frame["role"].map(ROLE_LABELS),
            disabled=frame["disabled"].map({True: "已停用", False: "正常"}),
            created_at=frame["created_at"].map(lambda t: local_text(t, zone)),
            last=frame["name"].map(lambda n: local_text(last.get(n), zone)),
            sessions=frame["name"].map(lambda n: int(open_count.get(n, 0))),
        ).rename(
            columns={
                "name": "用户名",
                "role": "角色",
                "town": "所属乡镇",
                "disabled": "状态",
                "created_at": "创建时间",
                "last": "最近登录",
                "sessions": "在线会话",
            }
        ),
    ),
    hide_index=True,
)

add, manage = st.columns(2)
with add, st.form("add_user"):
    st.markdown("**新增用户**")
    name = st.text_input("用户名")
    role = st.selectbox("角色", ROLES, format_func=ROLE_LABELS.get, index=2)
    town = st.selectbox(
        "所属乡镇（乡镇经办人必选）", ["", *town_names], format_func=lambda t: text.clean(t) or "（不属于乡镇）"
    )
    password = st.text_input("初始密码（至少 8 位）", type="password")
    if st.form_submit_button("新增", type="primary"):
        try:
            with common.session() as s:
                add_user(session=s, actor=me, name=name, role=role, town=town, password=password)
        except UserError as exc:
            st.error(text.md(exc))
        else:
            common.toast(f"已新增用户 {text.md(name)}", icon="✅")
            st.rerun()
with manage, st.form("manage_user"):
    st.markdown("**停用、启用或重设密码**")
    who = st.selectbox(
        "用户", [n for n in frame["name"] if n != me.name], format_func=text.clean, placeholder="没有其他用户"
    )
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
                    done = f"已重设 {text.md(who)} 的密码"
                elif do_disable:
                    disable_user(session=s, actor=me, name=who)
                    done = f"已停用 {text.md(who)}"
                else:
                    enable_user(session=s, actor=me, name=who)
                    done = f"已启用 {text.md(who)}"
        except UserError as exc:
            st.error(text.md(exc))
        else:
            common.toast(done, icon="✅")
            st.rerun()

st.subheader("登录会话")
st.caption(
    f"密码登录后，刷新页面或另开标签页仍保持登录；闲置 {common.settings().session_idle_hours} 小时"
    f"或满 {common.settings().session_max_days} 天自动结束。停用账号或重设密码会结束该账号的全部会话。"
)
if sessions.empty:
    st.info("目前没有保持登录的会话。")
else:
    labels = {
        text.clean(
            f"{r.name}｜登录于 {local_text(r.created_at, zone)}｜最近 {local_text(r.last_seen, zone)}"
            + (f"｜{r.source}" if r.source else "")
        ): int(r.id)
        for r in sessions.itertuples()
    }
    chosen = st.selectbox("会话", list(labels))
    if st.button("结束这个会话", icon=":material/logout:"):
        with common.session() as s:
            end_session_by_id(session=s, actor=me, session_id=labels[chosen])
        common.toast("已结束该会话，对方下次操作时需重新登录。", icon="✅")
        st.rerun()
