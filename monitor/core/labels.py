"""The words screens, exports and the audit trail use for stored values: one table per thing.

Roles and actions are named in monitor.core.permissions, unit types in monitor.core.config.
"""

from __future__ import annotations

DISTRICT = "区级"  # the township column of the district's own units (the center belongs to none)

BATCH_KINDS = {"activities": "活动台账", "register": "登记", "units": "单位名册", "rollback": "撤销"}
BATCH_STATUS = {
    "imported": "已导入",
    "refused": "未导入",
    "rolled_back": "已撤销",
    "done": "已完成",
    "pending": "处理中",
}


def town_label(town: str | None) -> str:
    """A unit's township as shown: the district's own units say 区级."""
    return town or DISTRICT
