"""Accounts and roles: argon2 password hashes, slowed-down guessing, and what each role may do."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from monitor import audit
from monitor.models import User

ROLES = ("admin", "reviewer", "town")
ROLE_LABELS = {"admin": "管理员", "reviewer": "审核人员", "town": "乡镇（街道）经办人"}
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"view", "import", "rollback", "lock", "roster", "interview", "audit", "export", "users"}),
    "reviewer": frozenset({"view", "import", "rollback", "lock", "roster", "interview", "audit", "export"}),
    "town": frozenset({"view", "import", "export"}),
}
ACTION_LABELS = {
    "view": "查看",
    "import": "上传活动台账",
    "rollback": "撤销导入",
    "lock": "锁定月份",
    "roster": "维护名册与任务",
    "interview": "登记约谈",
    "audit": "查看操作记录",
    "export": "导出台账",
    "users": "管理用户",
}
FREE_ATTEMPTS = 5
MAX_WAIT = timedelta(minutes=15)
MIN_PASSWORD = 8
_hasher = PasswordHasher()


class AuthError(Exception):
    """Sign-in refused; the message says why in Chinese without telling which part was wrong."""


class Forbidden(Exception):
    """The actor's role or township does not allow this."""


class UserError(ValueError):
    """A user account change that cannot be made as given."""


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    town: str = ""

    @property
    def is_town(self) -> bool:
        return self.role == "town"


def shell_actor() -> Actor:
    """Who acts from the command line without --user: the operator of the server."""
    return Actor(name=f"命令行:{getpass.getuser()}", role="admin")


def require(actor: Actor, action: str) -> None:
    if action not in PERMISSIONS.get(actor.role, frozenset()):
        raise Forbidden(f"{ROLE_LABELS.get(actor.role, actor.role)}无权{ACTION_LABELS.get(action, action)}。")


def town_scope(actor: Actor, town: str | None) -> str | None:
    """The township a query may cover: a town user only ever sees their own."""
    if not actor.is_town:
        return town
    if town and town != actor.town:
        raise Forbidden(f"只能查看本乡镇（{actor.town}）的数据。")
    return actor.town


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"密码至少 {MIN_PASSWORD} 位。")
    return _hasher.hash(password)


def add_user(*, session: Session, name: str, role: str, password: str, town: str = "", by: str = "") -> User:
    name = name.strip()
    if not name:
        raise UserError("用户名不能为空。")
    if role not in ROLES:
        raise UserError(f"角色应为 {'、'.join(ROLES)} 之一。")
    if role == "town" and not town.strip():
        raise UserError("乡镇（街道）经办人须指定所属乡镇。")
    if session.exec(select(User).where(User.name == name)).first() is not None:
        raise UserError(f"用户“{name}”已存在。")
    user = User(
        name=name,
        role=role,
        town=town.strip() if role == "town" else "",
        password_hash=hash_password(password),
        created_at=datetime.now(UTC),
    )
    session.add(user)
    audit.record(session, actor=by or name, action="user_add", target=name, after={"role": role, "town": user.town})
    session.commit()
    session.refresh(user)
    return user


def _get(session: Session, name: str) -> User:
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise UserError(f"用户“{name}”不存在。")
    return user


def disable_user(*, session: Session, name: str, by: str = "") -> None:
    user = _get(session, name)
    if user.disabled:
        raise UserError(f"账号 {name} 已是停用状态。")
    user.disabled = True
    session.add(user)
    audit.record(
        session, actor=by, action="user_disable", target=name, before={"disabled": False}, after={"disabled": True}
    )
    session.commit()


def enable_user(*, session: Session, name: str, by: str = "") -> None:
    """Let a disabled account sign in again (its failed sign-ins start from zero)."""
    user = _get(session, name)
    if not user.disabled:
        raise UserError(f"账号 {name} 未停用，无需启用。")
    user.disabled = False
    user.failed_logins = 0
    session.add(user)
    audit.record(
        session, actor=by, action="user_enable", target=name, before={"disabled": True}, after={"disabled": False}
    )
    session.commit()


def set_password(*, session: Session, name: str, password: str, by: str = "") -> None:
    user = _get(session, name)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    session.add(user)
    audit.record(session, actor=by or name, action="user_passwd", target=name)
    session.commit()


def has_users(*, session: Session) -> bool:
    return session.exec(select(User.id).limit(1)).first() is not None


def actor_for(*, session: Session, name: str) -> Actor:
    """The active account of that name, as an Actor; UserError when unknown or disabled."""
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise UserError(f"用户“{name}”不存在。")
    if user.disabled:
        raise UserError(f"用户“{name}”已停用。")
    return Actor(name=user.name, role=user.role, town=user.town)


def wait_left(user: User, now: datetime) -> timedelta:
    """After FREE_ATTEMPTS wrong passwords, each further try waits twice as long (30 s up to 15 min)."""
    if user.failed_logins < FREE_ATTEMPTS or user.last_failed_at is None:
        return timedelta(0)
    wait = min(MAX_WAIT, timedelta(seconds=30 * 2 ** (user.failed_logins - FREE_ATTEMPTS)))
    last = user.last_failed_at if user.last_failed_at.tzinfo else user.last_failed_at.replace(tzinfo=UTC)
    return max(timedelta(0), last + wait - now)


def authenticate(*, session: Session, name: str, password: str, now: datetime | None = None) -> Actor:
    now = now or datetime.now(UTC)
    user = session.exec(select(User).where(User.name == name.strip())).first()
    refused = AuthError("用户名或密码不正确。")
    if user is None:
        audit.record(session, actor=name.strip()[:100], action="login_failed", detail="unknown user")
        session.commit()
        raise refused
    left = wait_left(user, now)
    if left > timedelta(0):
        audit.record(session, actor=user.name, action="login_failed", detail="throttled")
        session.commit()
        raise AuthError(f"密码错误次数过多，请 {int(left.total_seconds()) + 1} 秒后再试。")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        user.last_failed_at = now
        session.add(user)
        audit.record(session, actor=user.name, action="login_failed", detail=f"attempt {user.failed_logins}")
        session.commit()
        raise refused from None
    if user.disabled:
        raise AuthError("该账号已停用，请联系管理员。")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    session.add(user)
    audit.record(session, actor=user.name, action="login")
    session.commit()
    return Actor(name=user.name, role=user.role, town=user.town)


def users_frame(*, session: Session) -> pd.DataFrame:
    rows = [
        {"name": u.name, "role": u.role, "town": u.town, "disabled": u.disabled, "created_at": u.created_at}
        for u in session.exec(select(User).order_by(User.name)).all()
    ]
    return pd.DataFrame(rows, columns=["name", "role", "town", "disabled", "created_at"])
