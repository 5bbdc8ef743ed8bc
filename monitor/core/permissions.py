"""Who may do what: the roles, the acting account, and the township scope built from it.

Every read and write in monitor/ takes the acting account as a required keyword argument and asks
`require` or `scope` before it touches the database; the screens only hide what they cannot do.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from monitor.core.errors import Refusal
from monitor.core.labels import town_label

ROLES = ("admin", "reviewer", "town")
ROLE_LABELS = {"admin": "管理员", "reviewer": "审核人员", "town": "乡镇（街道）经办人"}
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(
        {
            "view",
            "import",
            "rollback",
            "lock",
            "roster",
            "interview",
            "audit",
            "export",
            "bulletin",
            "review",
            "repair",
            "users",
        }
    ),
    # Reviewers repair the counts: they already make every write that moves them (imports,
    # rollbacks, decisions, roster and quotas), and a repair only recounts the stored rows, audited.
    "reviewer": frozenset(
        {"view", "import", "rollback", "lock", "roster", "interview", "audit", "export", "bulletin", "review", "repair"}
    ),
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
    "bulletin": "生成通报",
    "review": "认定活动",
    "repair": "修复统计表",
    "users": "管理用户",
}


class Forbidden(Refusal):
    """The actor's role or township does not allow this."""

    code = "forbidden"


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


def may(actor: Actor, action: str) -> bool:
    """Whether the role allows `action`: for a screen deciding what to offer (the call checks again)."""
    return action in PERMISSIONS.get(actor.role, frozenset())


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


def scope(actor: Actor, action: str, town: str | None = None) -> str | None:
    """The township a call may cover: the role must allow `action`, and town staff get their own
    township whatever was asked (Forbidden when they ask for another)."""
    require(actor, action)
    return town_scope(actor, town)


def may_touch(actor: Actor, action: str, unit_town: str) -> None:
    """A write or read of one unit: the role allows it, and town staff only in their own township."""
    require(actor, action)
    town_scope(actor, town_label(unit_town))
