"""Every refusal the product tells, in one catalogue: its code, its name and message template in
Chinese, and the command line's exit code.

A row finding refuses one row of a file (an error) or keeps it with a note (a warning); a file
error refuses the whole file; a request refusal turns down one request (a lock, a busy database, a
role without the right, a decision someone else made first, ...). Each exception the domain
raises to tell a person "no" is a `Refusal` carrying a code of this table; tests/test_errors.py
holds every code the source names to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scope = Literal["row", "warning", "file", "request"]
EXIT = {"row": 1, "warning": 0, "file": 2, "request": 2}  # 1: some rows refused; 2: refused as a whole
INTERNAL_ERROR = 3  # the exit code of a failure no entry describes


@dataclass(frozen=True)
class Kind:
    code: str
    scope: Scope
    title: str  # its name, as a heading or a column shows it
    template: str  # the message; {fields} come from the finding or the refusal

    @property
    def exit_code(self) -> int:
        return EXIT[self.scope]

    def message(self, **fields: object) -> str:
        return self.template.format(**fields)


_ENTRIES = [
    # A row of a file (SPEC §3, §7): refused, the rest of the file imports.
    Kind("unknown_unit", "row", "单位不存在", "找不到单位“{value}”。{hint}"),
    Kind(
        "ambiguous_unit",
        "row",
        "单位名称重复",
        "单位名称“{value}”在多个乡镇都有（{towns}），请填写所属乡镇或单位编码，"
        "或在表格标题中写明乡镇（审核人员代为上传时也可选择乡镇）。",
    ),
    Kind("bad_date", "row", "日期无法识别", "活动日期“{value}”无法识别，请写成 2025-03-05 这样的日期。"),
    Kind("future_date", "row", "日期晚于今天", "活动日期 {value} 晚于今天（{today}），尚未开展的活动不能上报。"),
    Kind("inactive_unit", "row", "单位不在启用期", "{unit}在 {month} 不在启用期内（{active}），该月活动不计入。"),
    Kind("missing_value", "row", "必填项为空", "“{column}”不能为空。"),
    Kind("bad_number", "row", "数字不对", "“{column}”应为 0 到 100000 之间的整数，现为“{value}”。"),
    Kind(
        "locked_month",
        "row",
        "月份已锁定",
        "{month} 已由审核人员锁定，不能再上报该月活动；如需更正请联系区委宣传部。",
    ),
    Kind("bad_type", "row", "单位类型不对", "单位类型“{value}”无法识别，应为 中心、所 或 站。"),
    Kind("bad_month", "row", "年月不对", "“{column}”应为年月，如 2025-03，现为“{value}”。"),
    Kind(
        "duplicate_code",
        "row",
        "单位编码重复",
        "单位编码“{value}”在本文件中重复出现（第 {first} 行已有），本行未导入。",
    ),
    Kind("forbidden_unit", "row", "非本乡镇单位", "{unit}属于{town}，您只能上报本乡镇（{own}）的所、站。"),
    Kind(
        "town_mismatch",
        "row",
        "乡镇不符",
        "单位编码 {unit_code} 属于{town}，与本行所属乡镇“{value}”不符：请核对单位编码或所属乡镇。",
    ),
    Kind("too_long", "row", "内容过长", "“{column}”超过 {limit} 字（现为 {length} 字）{hint}"),
    # A row kept, with a note for the clerk.
    Kind("skipped_row", "warning", "已跳过的行", "{reason}。"),
    Kind("guessed_date", "warning", "日期已推定", "活动日期“{value}”{reason}，已按 {day} 记入，请核对。"),
    Kind("unknown_category", "warning", "活动类型不在分类中", "活动类型“{value}”不在标准分类中，已按原样保存。"),
    Kind(
        "loose_number",
        "warning",
        "数字按文字读取",
        "“{column}”有 {count} 处不是整数，已按文字读取：{examples}；读不出数字的留空，"
        "原文随活动保存，这些活动照常导入。",
    ),
    Kind(
        "date_as_typed",
        "warning",
        "日期按原文读取",
        "活动日期“{value}”已按 {day} 记入（{note}），原文随活动保存，请核对。",
    ),
    Kind(
        "cut_text",
        "warning",
        "内容已截断",
        "“{column}”有 {count} 处超过 {limit} 字，已保存前 {limit} 字，原文随活动保存，这些活动照常导入。",
    ),
    # A file as a whole: nothing of it is stored.
    Kind("too_large", "file", "文件过大", "文件超过上限，请按月或按乡镇拆分后重新上传。"),
    Kind("empty_file", "file", "文件为空", "文件是空的。"),
    Kind("unreadable_file", "file", "文件无法读取", "文件已损坏或加密，无法读取：请另存后重新上传。"),
    Kind("unknown_format", "file", "文件格式不对", "文件格式无法识别：请上传活动台账（Excel、CSV、Word）。"),
    Kind("missing_column", "file", "缺少必需的列", "文件缺少必需的列：{columns}。"),
    Kind("no_header", "file", "找不到表头", "没有找到表头行：表格应有一行列名，如 单位名称、活动日期、活动名称。"),
    Kind("bad_upload", "file", "照片上传无法读取", "照片上传无法读取：{detail}"),
    Kind("bad_image", "file", "照片无法读取", "照片无法读取：{detail}"),
    # A request turned down.
    Kind("bad_argument", "request", "参数不对", "参数不对：{detail}"),
    Kind("unknown_user", "request", "账号问题", "用户“{name}”不存在或已停用。"),
    Kind("sign_in", "request", "登录未成功", "用户名或密码不正确。"),
    Kind("forbidden", "request", "无权操作", "{role}无权{action}。"),
    Kind("busy", "request", "数据库正忙", "数据库正忙，请稍后重试。"),
    Kind("schema", "request", "数据库版本不符", "数据库版本与程序不符：{detail}"),
    Kind("review_refused", "request", "认定未完成", "{detail}"),
    Kind("not_found", "request", "记录不存在", "{what}不存在，或已被他人处理。"),
    Kind(
        "duplicate_activity",
        "request",
        "活动已登记",
        "{unit}在 {day} 已有活动“{title}”（活动编号 {activity_id}），同一单位同一天的同名活动只记一次；"
        "如需补充照片，请在该活动上添加。",
    ),
    Kind("stale", "request", "已被他人处理", "已被他人处理：{what}在您打开后已有更改，请刷新后再看。"),
    Kind(
        "reviewed",
        "request",
        "活动已审核",
        "该活动已审核（认定或不予认定），不能再由乡镇更改；如需更改请联系审核人员。",
    ),
    Kind("store", "request", "照片存储不可用", "照片存储暂时无法访问：{detail}"),
    Kind("refused", "request", "操作未完成", "{detail}"),
    Kind("file_not_found", "request", "找不到文件", "找不到文件 {name}"),
    Kind("not_a_file", "request", "不是文件", "{name} 是文件夹，不是文件"),
    Kind("no_permission", "request", "没有读取权限", "没有权限读取 {name}"),
    Kind("internal_error", "request", "意外错误", "意外错误，命令未完成：{detail}"),
]
CATALOGUE: dict[str, Kind] = {kind.code: kind for kind in _ENTRIES}


class Refusal(Exception):
    """A "no" told to a person: a code of CATALOGUE and a message in Chinese.

    A subclass names its code; the message is the one given, or the template filled from `fields`.
    """

    code: str = "refused"

    def __init__(self, message: str | None = None, *, code: str | None = None, **fields: object) -> None:
        if code is not None:
            self.code = code
        kind = CATALOGUE[self.code]
        self.message = message if message is not None else kind.message(**fields)
        super().__init__(self.message)

    @property
    def kind(self) -> Kind:
        return CATALOGUE[self.code]

    @property
    def exit_code(self) -> int:
        """A refusal raised turns the whole request down, whatever its code (a row's code included)."""
        return EXIT["request"]
