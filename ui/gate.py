"""Sign-in on screen: the first admin, the password form or the district's OIDC provider.

A password sign-in is kept across refreshes, new tabs and links by a session token in a cookie
(monitor.admin.sessions): the few lines of script below only write or clear that cookie.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import streamlit as st

from monitor.admin.accounts import AuthError, UserError, actor_for, authenticate, create_first_admin, has_users
from monitor.admin.sessions import COOKIE, end_session, session_actor, start_session
from monitor.core.permissions import Actor
from ui import common, text

KEY, SEEN, TOKEN = "actor", "actor_seen", "session_token"

# Writes the session cookie, or clears it for an empty token. The token is random and carries
# nothing about the person; no other data reaches this script.
COOKIE_JS = """
export default function (component) {
  const data = component.data || {};
  if (typeof data.token !== "string") return;
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  const age = data.token ? "; Max-Age=" + String(Math.max(0, Math.floor(Number(data.maxAge) || 0))) : "; Max-Age=0";
  document.cookie = "COOKIE=" + encodeURIComponent(data.token) + "; Path=/; SameSite=Strict" + age + secure;
}
""".replace("COOKIE=", f"{COOKIE}=")
_cookie = st.components.v2.component("monitor_session_cookie", js=COOKIE_JS)


def _write_cookie(token: str) -> None:
    """Keep (or, with "", clear) the browser's session cookie."""
    max_age = common.settings().session_max_days * 86400
    _cookie(data={"token": token, "maxAge": max_age}, key="session_cookie")


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def sign_out(message: str = "") -> None:
    """End the session here and in the database: the cookie's token signs no one in any more."""
    token = st.session_state.pop(TOKEN, None)
    if token:
        with common.session() as s:
            end_session(session=s, token=token)
    st.session_state.pop(KEY, None)
    st.session_state.pop(SEEN, None)
    if message:
        st.session_state["gate_message"] = message


def _first_admin() -> None:
    st.title("文明实践活动监测")
    st.info("这是新数据库，还没有任何账号。请先创建管理员账号。", icon=":material/admin_panel_settings:")
    with st.form("first_admin"):
        name = st.text_input("管理员用户名", value="admin")
        password = st.text_input("密码（至少 8 位）", type="password")
        again = st.text_input("再次输入密码", type="password")
        if st.form_submit_button("创建管理员", type="primary"):
            if password != again:
                st.error("两次输入的密码不一致。")
                return
            try:
                with common.session() as s:
                    create_first_admin(session=s, name=name, password=password)
            except UserError as exc:
                st.error(text.md(exc))
                return
            st.session_state["gate_message"] = f"管理员 {name} 已创建，请登录。"
            st.rerun()


def _password_form() -> None:
    st.title("文明实践活动监测")
    if "gate_message" in st.session_state:
        st.info(text.md(st.session_state.pop("gate_message")))  # it may name the account
    with st.form("login"):
        name = st.text_input("用户名")
        password = st.text_input("密码", type="password")
        if st.form_submit_button("登录", type="primary"):
            try:
                with common.session() as s:
                    actor = authenticate(session=s, name=name, password=password, source=_source())
                    st.session_state[TOKEN] = start_session(
                        session=s, actor=actor, settings=common.settings(), source=_source()
                    )
                st.session_state[KEY] = actor
                st.session_state[SEEN] = datetime.now(UTC)
            except AuthError as exc:
                st.error(text.md(exc))
                return
            st.rerun()


def _oidc() -> Actor | None:
    """The provider says who; the users table says whether and as what, asked again on every run.

    The account found is stored where the pages look for the signed-in person (ui.common.actor),
    and forgotten as soon as the provider's sign-in ends or the account is disabled or removed.
    """
    if not st.user.is_logged_in:
        st.session_state.pop(KEY, None)
        st.session_state.pop(SEEN, None)
        st.title("文明实践活动监测")
        st.button("使用统一身份认证登录", type="primary", on_click=st.login)
        return None
    identity = str(st.user.get("email") or st.user.get("name") or "")
    try:
        with common.session() as s:
            actor = actor_for(session=s, name=identity)
    except UserError:
        st.session_state.pop(KEY, None)
        st.session_state.pop(SEEN, None)
        st.error(f"账号 {text.md(identity)} 尚未在本系统开通或已停用，请联系管理员。")
        st.button("退出登录", on_click=st.logout)
        return None
    st.session_state[KEY] = actor
    st.session_state[SEEN] = datetime.now(UTC)
    return actor


def _bootstrap_admin() -> None:
    """MONITOR_ADMIN_PASSWORD creates the first admin of an empty database without a screen."""
    password = os.environ.get("MONITOR_ADMIN_PASSWORD", "")
    if not password:
        return
    with common.session() as s:
        if not has_users(session=s):
            try:
                create_first_admin(session=s, name=os.environ.get("MONITOR_ADMIN_NAME", "admin"), password=password)
            except UserError as exc:
                if has_users(session=s):
                    return  # another session created it first
                st.error(f"未能按 MONITOR_ADMIN_PASSWORD 创建管理员：{text.md(exc)}")


def _source() -> str:
    """The client's address, as Streamlit knows it (none on some setups)."""
    address = st.context.ip_address
    return address if isinstance(address, str) else ""


def _token() -> str:
    """This session's token, or the one in the browser's cookie (a refresh, a new tab, a link)."""
    cookie = st.context.cookies.get(COOKIE)
    return str(st.session_state.get(TOKEN) or (cookie if isinstance(cookie, str) else ""))


def _from_token(token: str) -> Actor | None:
    """The account the token signs in; None (and the cookie cleared) when it signs in no one."""
    with common.session() as s:
        actor = session_actor(session=s, token=token, settings=common.settings())
    if actor is None:
        st.session_state.pop(TOKEN, None)
        st.session_state.pop(KEY, None)
        st.session_state.setdefault("gate_message", "登录已过期或已退出，请重新登录。")
        _write_cookie("")
        return None
    st.session_state[KEY], st.session_state[TOKEN] = actor, token
    _write_cookie(token)
    return actor


def signed_in() -> Actor | None:
    """The person using this session, or None after drawing the sign-in screen."""
    if _oidc_configured():
        return _oidc()
    token = _token()
    if token:
        actor = _from_token(token)
        if actor is None:
            _password_form()
        return actor
    actor = st.session_state.get(KEY)  # an account set without a token (page tests do): checked as any
    now = datetime.now(UTC)
    idle = timedelta(hours=common.settings().session_idle_hours)
    if actor is not None and now - st.session_state.get(SEEN, now) > idle:
        sign_out("长时间未操作，已自动退出，请重新登录。")
        actor = None
    if actor is not None:
        with common.session() as s:
            try:
                actor = actor_for(session=s, name=actor.name)
            except UserError:
                sign_out("账号已停用。")
                actor = None
    if actor is not None:
        st.session_state[KEY] = actor
        st.session_state[SEEN] = now
        return actor
    _bootstrap_admin()
    with common.session() as s:
        empty = not has_users(session=s)
    _first_admin() if empty else _password_form()
    return None


def logout_button(actor: Actor) -> None:
    if _oidc_configured():
        st.button("退出登录", on_click=st.logout)
    else:
        st.button("退出登录", on_click=sign_out, args=("已退出登录。",))
