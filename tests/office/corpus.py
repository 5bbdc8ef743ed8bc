"""Activity ledgers laid out the way township offices keep them: `build(folder)` writes each file and
returns its Case (the bytes, the rows that must be stored, the rows that must be refused, and what
the reading summary must say).

Each habit of issue 8 is written alone in .xlsx, the main ones again in .xls and in GBK CSV (CRLF)
where the format can hold them (a CSV has no merged cells and no sheets), and two workbooks carry
every habit at once. Row numbers are the ones Excel shows: the title rows count.

    python tests/office/corpus.py FOLDER      # writes the corpus for a person to open, and lists it
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import openpyxl
import xlwt
from openpyxl.styles import Alignment

YEAR, MONTH = 2026, 6
NJK_TITLE = "泥江口镇2026年6月新时代文明实践活动台账"
LX_TITLE = "兰溪镇2026年6月新时代文明实践活动台账"
SIGN_OFF = "填报人：张三　审核人：李四　填报日期：2026年7月3日"

# Stations added to tests/factories.SMALL_ROSTER: villages and a community in both townships,
# so that a ledger has more than one station whose name is unique in the district.
EXTRA_UNITS: list[dict[str, object]] = [
    {"code": "NJK-XH", "name": "新华村新时代文明实践站", "type": "站", "town": "泥江口镇"},
    {"code": "NJK-JN", "name": "江南社区新时代文明实践站", "type": "站", "town": "泥江口镇"},
    {"code": "LX-QS", "name": "青山村新时代文明实践站", "type": "站", "town": "兰溪镇"},
]

Key = tuple[str, str, str]  # (unit code, ISO date, title)
Where = tuple[str, int, str]  # (sheet, or "" for a CSV; row as Excel shows it; code)


@dataclass(frozen=True)
class Act:
    """One activity a unit held in June 2026."""

    code: str
    day: int
    title: str
    category: str
    people: int
    volunteers: int
    place: str

    @property
    def key(self) -> Key:
        return (self.code, date(YEAR, MONTH, self.day).isoformat(), self.title)

    @property
    def when(self) -> datetime:
        return datetime(YEAR, MONTH, self.day)


INSTITUTE = [
    Act("NJK-S", 3, "学习贯彻党的二十大精神宣讲", "理论宣讲", 45, 6, "镇文化站"),
    Act("NJK-S", 11, "端午节包粽子邻里活动", "文体活动", 60, 8, "镇文化广场"),
    Act("NJK-S", 24, "防溺水安全知识宣传", "科普宣传", 80, 10, "镇中心小学"),
]
YOUCAOTANG = [
    Act("NJK-YCT", 5, "移风易俗倡议宣讲", "移风易俗", 30, 4, "油草塘村部"),
    Act("NJK-YCT", 18, "关爱留守儿童志愿服务", "志愿服务", 25, 9, "油草塘村部"),
]
XINHUA = [
    Act("NJK-XH", 9, "农村法律知识讲座", "法治宣传", 35, 3, "新华村部"),
    Act("NJK-XH", 21, "健康义诊进村", "卫生健康", 50, 7, "新华村卫生室"),
]
JIANGNAN = [
    Act("NJK-JN", 12, "垃圾分类宣传", "科普宣传", 40, 12, "江南社区广场"),
    Act("NJK-JN", 26, "广场舞展演", "文体活动", 90, 5, "江南社区广场"),
]
HEPING_NJK = [
    Act("NJK-HP", 8, "道德讲堂进村", "理论宣讲", 28, 3, "和平村部"),
    Act("NJK-HP", 16, "清洁家园志愿服务", "志愿服务", 33, 11, "和平村部"),
]
HEPING_LX = [Act("LX-HP", a.day, a.title, a.category, a.people, a.volunteers, a.place) for a in HEPING_NJK]
QINGSHAN = [Act("LX-QS", 15, "反诈骗知识宣传", "法治宣传", 42, 5, "青山村部")]

LABEL = {  # the unit as a clerk writes it
    "NJK-S": "泥江口镇新时代文明实践所",
    "NJK-YCT": "油草塘村",
    "NJK-XH": "新华村新时代文明实践站",
    "NJK-JN": "江南社区",
    "NJK-HP": "和平村",
    "LX-HP": "和平村",
    "LX-QS": "青山村",
}
INSTRUCTIONS = [
    "填表说明",
    "1. 每开展一场活动填写一行，活动日期请填写具体日期。",
    "2. 单位名称请填写村（社区）新时代文明实践站全称。",
    "3. 参与人数、志愿者人数请填写整数。",
    "4. 每月3日前报镇党委宣传办。",
]


def keys(*groups: list[Act]) -> set[Key]:
    return {a.key for group in groups for a in group}


def md(act: Act, style: str) -> object:
    """A date without its year as clerks write it; "num" is the number Excel keeps for 6.24."""
    return {
        "cn": f"{MONTH}月{act.day}日",
        "slash": f"{MONTH}/{act.day}",
        "dot": f"{MONTH}.{act.day}",
        "num": float(f"{MONTH}.{act.day:02d}"),
    }[style]


# --- sheets and their formats -----------------------------------------------------------------


@dataclass
class Sheet:
    """A grid of cells (row 1 first, None = empty) and merged ranges.

    A range is (first row, first column, last row, last column), 1-based as Excel counts.
    """

    name: str
    rows: list[list[object]] = field(default_factory=list)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)

    def add(self, *values: object) -> int:
        self.rows.append(list(values))
        return len(self.rows)

    def across(self, row: int, first: int, last: int) -> None:
        self.merges.append((row, first, row, last))

    def down(self, column: int, first: int, last: int) -> None:
        if last > first:
            self.merges.append((first, column, last, column))

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)


def xlsx(sheets: list[Sheet]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for spec in sheets:
        ws = workbook.create_sheet(spec.name)
        for r, row in enumerate(spec.rows, 1):
            for c, value in enumerate(row, 1):
                if value is None:
                    continue
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm" if value.hour or value.minute else "yyyy-mm-dd"
                if isinstance(value, str) and "\n" in value:
                    cell.alignment = Alignment(wrap_text=True)
        for r1, c1, r2, c2 in spec.merges:
            ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xls(sheets: list[Sheet]) -> bytes:
    workbook = xlwt.Workbook(encoding="utf-8")
    day = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    minute = xlwt.easyxf(num_format_str="YYYY-MM-DD HH:MM")
    wrap = xlwt.easyxf("alignment: wrap on")
    plain = xlwt.Style.default_style

    def style(value: object) -> xlwt.XFStyle:
        if isinstance(value, datetime):
            return minute if value.hour or value.minute else day
        return wrap if isinstance(value, str) and "\n" in value else plain

    for spec in sheets:
        ws = workbook.add_sheet(spec.name)
        covered = set()
        for r1, c1, r2, c2 in spec.merges:
            value = spec.rows[r1 - 1][c1 - 1] if c1 <= len(spec.rows[r1 - 1]) else None
            ws.write_merge(r1 - 1, r2 - 1, c1 - 1, c2 - 1, "" if value is None else value, style(value))
            covered |= {(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
        for r, row in enumerate(spec.rows, 1):
            for c, value in enumerate(row, 1):
                if value is not None and (r, c) not in covered:
                    ws.write(r - 1, c - 1, value, style(value))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def gbk_csv(spec: Sheet) -> bytes:
    """The sheet as Excel on Chinese Windows saves it as CSV: GB18030, CRLF, every row as wide as the table."""

    def text(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            shown = f"{value.year}/{value.month}/{value.day}"
            return f"{shown} {value.hour}:{value.minute:02d}" if value.hour or value.minute else shown
        return str(value)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in spec.rows:
        writer.writerow([text(v) for v in row] + [""] * (spec.width - len(row)))
    return out.getvalue().encode("gb18030")


# --- what a file must give --------------------------------------------------------------------


@dataclass
class Case:
    name: str
    habit: str
    data: bytes = b""
    stored: set[Key] = field(default_factory=set)
    refused: set[Where] = field(default_factory=set)
    town: str | None = None  # the township picked at upload
    counts: dict[Key, tuple[int | None, int | None]] = field(default_factory=dict)  # participants, volunteers
    column_of: dict[Where, str] = field(default_factory=dict)  # the column an error names, as written
    message_has: dict[Where, str] = field(default_factory=dict)  # a fragment the error's message holds
    skipped_rows: set[tuple[str, int]] = field(default_factory=set)  # at least these, each with a reason
    sheets: set[str] | None = None  # the sheets read (None for a CSV)
    skipped_sheets: set[str] = field(default_factory=set)
    header_rows: dict[str, list[int]] = field(default_factory=dict)  # by sheet; "" is a CSV's one table
    unit_from_sheet: set[str] = field(default_factory=set)
    columns: set[tuple[str, str]] = field(default_factory=set)  # (header as written, field), at least
    unmapped: set[str] = field(default_factory=set)  # headers the summary names as not understood
    context: dict[str, object] = field(default_factory=dict)  # year / month / town taken from title or name
    guessed_dates: bool = False  # dates without a year: the preview warns about them
    warned: dict[Where, str] = field(default_factory=dict)  # warnings at least these, each naming this column

    @property
    def extension(self) -> str:
        return self.name.rsplit(".", 1)[-1]


TEMPLATE_HEADER = [
    "单位编码",
    "所属乡镇",
    "单位名称",
    "活动日期",
    "活动名称",
    "活动类型",
    "参与人数",
    "志愿者人数",
    "活动地点",
    "图片数",
    "备注",
]
STANDARD = {
    "单位名称": "单位名称",
    "活动日期": "活动日期",
    "活动名称": "活动名称",
    "活动类型": "活动类型",
    "参与人数": "参与人数",
    "活动地点": "活动地点",
}


def template(ext: str) -> Case:
    """The plain template layout (data/templates/活动台账模板.csv): read exactly as before."""
    s = Sheet("活动台账")
    s.add(*TEMPLATE_HEADER)
    rows = [*INSTITUTE, *YOUCAOTANG, *XINHUA]
    for i, a in enumerate(rows):
        code, town, name = [
            (a.code, "", ""),
            ("", "泥江口镇", LABEL[a.code]),
            ("", "", LABEL[a.code]),
        ][i % 3]
        when = a.when.date().isoformat() if ext == "csv" else a.when
        s.add(code, town, name, when, a.title, a.category, a.people, a.volunteers, a.place, 2, "")
    case = Case(f"00_模板格式.{ext}", "模板格式原样读取：表头在第 1 行，每行入库", stored=keys(rows))
    case.counts = {a.key: (a.people, a.volunteers) for a in rows}
    case.header_rows = {"" if ext == "csv" else "活动台账": [1]}
    if ext == "csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(s.rows)
        case.data = out.getvalue().encode("utf-8-sig")  # as the template itself is saved
    else:
        case.data = xlsx([s])
        case.sheets = {"活动台账"}
    return case


def merged_units(ext: str) -> Case:
    """The unit written once and merged down over its rows; a blank that is not merged stays an error."""
    s = Sheet("Sheet1")
    s.add("序号", "单位名称", "活动日期", "活动名称", "活动类型", "参与人数", "活动地点")
    n = 0
    for acts in (INSTITUTE, YOUCAOTANG, XINHUA):
        first = 0
        for i, a in enumerate(acts):
            n += 1
            r = s.add(n, LABEL[a.code] if i == 0 else None, a.when, a.title, a.category, a.people, a.place)
            first = first or r
        s.down(2, first, r)
    s.down(7, first, r)  # the village hall written once for the last group too
    s.rows[r - 1][6] = None
    a, b = JIANGNAN
    s.add(n + 1, LABEL[a.code], a.when, a.title, a.category, a.people, a.place)
    blank = s.add(n + 2, None, b.when, b.title, b.category, b.people, b.place)
    where = ("Sheet1", blank, "missing_value")
    case = Case(
        f"01_合并单元格.{ext}" if ext == "xlsx" else f"02_合并单元格.{ext}",
        "单位名称合并单元格向下填充；未合并的空单位仍报 missing_value 并提示合并单元格",
        stored=keys(INSTITUTE, YOUCAOTANG, XINHUA, [a]),
        refused={where},
        column_of={where: "单位名称"},
        message_has={where: "合并单元格"},
        sheets={"Sheet1"},
        header_rows={"Sheet1": [1]},
    )
    case.data = xlsx([s]) if ext == "xlsx" else xls([s])
    return case


def station_sheets(ext: str) -> Case:
    """One sheet per station named after the village, no unit column; a 说明 sheet beside them."""
    sheets = []
    for acts in (YOUCAOTANG, XINHUA, JIANGNAN):
        s = Sheet(short(acts[0].code))
        s.add("序号", "活动日期", "活动名称", "活动类型", "参与人数", "活动地点")
        for i, a in enumerate(acts, 1):
            s.add(i, a.when, a.title, a.category, a.people, a.place)
        sheets.append(s)
    notes = Sheet("说明")
    for line in ["本台账每个村（社区）一个工作表，工作表名即站点名称。", *INSTRUCTIONS[1:]]:
        notes.add(line)
    sheets = [*sheets, notes] if ext == "xlsx" else [notes, *sheets]
    names = {s.name for s in sheets} - {"说明"}
    case = Case(
        f"03_一站一表.{ext}" if ext == "xlsx" else f"04_一站一表.{ext}",
        "一站一表：工作表名为村（社区）名，无单位列；说明页跳过",
        stored=keys(YOUCAOTANG, XINHUA, JIANGNAN),
        sheets=names,
        skipped_sheets={"说明"},
        header_rows={n: [1] for n in names},
        unit_from_sheet=names,
    )
    case.data = xlsx(sheets) if ext == "xlsx" else xls(sheets)
    return case


def short(code: str) -> str:
    return {"NJK-YCT": "油草塘村", "NJK-XH": "新华村", "NJK-JN": "江南社区", "NJK-HP": "和平村"}[code]


def instructions_first(ext: str) -> Case:
    """An instructions sheet first, the table on sheet 2 (not named 活动台账)."""
    notes = Sheet("填表说明" if ext == "xlsx" else "说明")
    notes.add(INSTRUCTIONS[0])
    notes.across(1, 1, 6)
    for line in INSTRUCTIONS[1:]:
        notes.add(line)
    table = Sheet("活动记录" if ext == "xlsx" else "Sheet2")
    table.add("单位名称", "活动日期", "活动名称", "活动类型", "参与人数", "志愿者人数")
    acts = [*INSTITUTE, *YOUCAOTANG, *XINHUA, *JIANGNAN]
    for a in acts:
        table.add(LABEL[a.code], a.when, a.title, a.category, a.people, a.volunteers)
    case = Case(
        f"05_说明页在前.{ext}" if ext == "xlsx" else f"06_说明页在前.{ext}",
        "第一页是填表说明，表格在第二页：说明页跳过并列出",
        stored=keys(acts),
        counts={a.key: (a.people, a.volunteers) for a in acts},
        sheets={table.name},
        skipped_sheets={notes.name},
        header_rows={table.name: [1]},
    )
    case.data = xlsx([notes, table]) if ext == "xlsx" else xls([notes, table])
    return case


def everyday_headers(ext: str) -> Case:
    """The words clerks use for the headers (SPEC §7), a column nobody asked for among them."""
    if ext == "xlsx":
        header = ["序号", "站点", "活动时间", "活动主题", "活动形式", "参加人数", "地点", "主讲人"]
        acts = [*YOUCAOTANG, *XINHUA, *JIANGNAN]
        rows = [
            [i, LABEL[a.code], a.when, a.title, a.category, a.people, a.place, "王老师"] for i, a in enumerate(acts, 1)
        ]
        unmapped = {"主讲人"}
        name = "07_日常表头.xlsx"
    elif ext == "csv":
        header = ["村（社区）", "日期", "主题", "类别", "参与人次", "地点"]
        acts = [*YOUCAOTANG, *XINHUA, *JIANGNAN]
        rows = [[short(a.code), a.when, a.title, a.category, a.people, a.place] for a in acts]
        unmapped = set()
        name = "08_日常表头.csv"
    else:
        header = ["单位", "时间", "活动内容", "活动形式", "参加人数", "地点"]
        acts = [*INSTITUTE, *YOUCAOTANG, *JIANGNAN]
        rows = [
            [
                LABEL[a.code],
                a.when.replace(hour=9, minute=30) if i % 2 else a.when,
                a.title,
                a.category,
                a.people,
                a.place,
            ]
            for i, a in enumerate(acts)
        ]
        unmapped = set()
        name = "09_日常表头.xls"
    s = Sheet("Sheet1")
    s.add(*header)
    for row in rows:
        s.add(*row)
    fields = ["单位名称", "活动日期", "活动名称", "活动类型", "参与人数", "活动地点"]
    written = [h for h in header if h not in ("序号", "主讲人")]
    case = Case(
        name,
        "日常表头用语：" + "、".join(written),
        stored=keys(acts),
        counts={a.key: (a.people, None) for a in acts},
        columns=set(zip(written, fields, strict=True)),
        unmapped=unmapped,
        header_rows={"" if ext == "csv" else "Sheet1": [1]},
    )
    if ext == "csv":
        case.data = gbk_csv(s)
    else:
        case.sheets = {"Sheet1"}
        case.data = xlsx([s]) if ext == "xlsx" else xls([s])
    return case


def title_two_row_header(ext: str) -> Case:
    """A title row (two in the .xls) above a header over two rows: 参与人数 merged over 群众 / 志愿者."""
    s = Sheet("Sheet1")
    s.add(NJK_TITLE)
    s.across(1, 1, 8)
    if ext == "xls":
        s.add("填报单位：泥江口镇党委宣传办")
        s.across(2, 1, 8)
    top = s.add("序号", "单位名称", "活动日期", "活动名称", "活动类型", "参与人数", None, "活动地点")
    sub = s.add(None, None, None, None, None, "群众", "志愿者", None)
    for c in (1, 2, 3, 4, 5, 8):
        s.down(c, top, sub)
    s.across(top, 6, 7)
    acts = [*INSTITUTE, *YOUCAOTANG, *XINHUA, *JIANGNAN]
    for i, a in enumerate(acts, 1):
        s.add(
            i,
            LABEL[a.code] if i % 2 else short_or_label(a.code),
            a.when,
            a.title,
            a.category,
            a.people,
            a.volunteers,
            a.place,
        )
    case = Case(
        f"10_标题行两行表头.{ext}" if ext == "xlsx" else f"11_标题行两行表头.{ext}",
        "标题行在表头之上；两行表头（参与人数合并在 群众/志愿者 之上）：群众→参与人数，志愿者→志愿者人数",
        stored=keys(acts),
        counts={a.key: (a.people, a.volunteers) for a in acts},
        sheets={"Sheet1"},
        header_rows={"Sheet1": [top, sub]},
        columns={("群众", "参与人数"), ("志愿者", "志愿者人数"), ("单位名称", "单位名称"), ("活动日期", "活动日期")},
        context={"year": YEAR, "month": MONTH, "town": "泥江口镇"},
    )
    case.data = xlsx([s]) if ext == "xlsx" else xls([s])
    return case


def short_or_label(code: str) -> str:
    return short(code) if code != "NJK-S" else LABEL[code]


def title_csv() -> Case:
    """A title line above the header, as Excel saves a titled sheet to CSV (GBK)."""
    s = Sheet("")
    s.add(NJK_TITLE)
    top = s.add("序号", "单位名称", "活动日期", "活动名称", "活动类型", "参与人数", "志愿者人数", "活动地点")
    acts = [*INSTITUTE, *YOUCAOTANG, *XINHUA]
    for i, a in enumerate(acts, 1):
        s.add(i, LABEL[a.code], a.when, a.title, a.category, a.people, a.volunteers, a.place)
    return Case(
        "12_标题行.csv",
        "CSV 第一行是标题，表头在第 2 行",
        data=gbk_csv(s),
        stored=keys(acts),
        counts={a.key: (a.people, a.volunteers) for a in acts},
        header_rows={"": [top]},
        context={"year": YEAR, "month": MONTH, "town": "泥江口镇"},
    )


def totals_and_sign_off(ext: str) -> Case:
    """A 小计 row mid-table, rows holding only a 序号, a 合计 row, a blank line and the sign-off."""
    name = "" if ext == "csv" else "Sheet1"
    s = Sheet(name)
    s.add("序号", "单位名称", "活动日期", "活动名称", "活动类型", "参与人数", "志愿者人数")
    n = 0
    skipped = []

    def total(word: str, acts: list[Act]) -> None:
        r = s.add(word, None, None, None, None, sum(a.people for a in acts), sum(a.volunteers for a in acts))
        if ext != "csv":
            s.across(r, 1, 5)
        skipped.append(r)

    for a in INSTITUTE:
        n += 1
        s.add(n, LABEL[a.code], a.when, a.title, a.category, a.people, a.volunteers)
    total("小计", INSTITUTE)
    for a in [*YOUCAOTANG, *XINHUA]:
        n += 1
        s.add(n, LABEL[a.code], a.when, a.title, a.category, a.people, a.volunteers)
    for _ in range(2):  # the template's numbered rows left empty
        n += 1
        skipped.append(s.add(n, None, None, None, None, None, None))
    total("合计", [*INSTITUTE, *YOUCAOTANG, *XINHUA])
    s.add(None, None, None, None, None, None, None)
    if ext == "xls":  # the sign-off spread over cells, 审核人 under the date column
        sign = s.add("填报人：张三", None, "审核人：李四", None, "填报日期：2026年7月3日", None, None)
    else:
        sign = s.add(SIGN_OFF, None, None, None, None, None, None)
        if ext == "xlsx":
            s.across(sign, 1, 7)
    skipped.append(sign)
    stored_acts = [*INSTITUTE, *YOUCAOTANG, *XINHUA]
    case = Case(
        {"xlsx": "13_合计与签字.xlsx", "xls": "14_合计与签字.xls", "csv": "15_合计与签字.csv"}[ext],
        "表中小计、表尾合计、只有序号的空行、填报人/审核人签字行：跳过并列出，不报错",
        stored=keys(stored_acts),
        counts={a.key: (a.people, a.volunteers) for a in stored_acts},
        skipped_rows={(name, r) for r in skipped},
        header_rows={name: [1]},
    )
    if ext == "csv":
        case.data = gbk_csv(s)
    else:
        case.sheets = {name}
        case.data = xlsx([s]) if ext == "xlsx" else xls([s])
    return case


YEARLESS_STYLES = ["cn", "slash", "num", "dot", "cn", "num", "dot", "slash", "cn"]


def yearless(ext: str) -> Case:
    """Dates without a year (6月3日, 6/5, 6.9, the number 6.11) under a title that says 2026年6月."""
    name = "" if ext == "csv" else "Sheet1"
    s = Sheet(name)
    s.add(NJK_TITLE)
    if ext != "csv":
        s.across(1, 1, 5)
    s.add("序号", "单位名称", "活动日期", "活动名称", "参与人数")
    acts = [*INSTITUTE, *YOUCAOTANG, *XINHUA, *JIANGNAN]
    for i, (a, style) in enumerate(zip(acts, YEARLESS_STYLES, strict=True), 1):
        when = md(a, "dot" if style == "num" and ext == "csv" else style)
        s.add(i, LABEL[a.code], when, a.title, a.people)
    case = Case(
        {"xlsx": "16_日期无年份.xlsx", "xls": "17_日期无年份.xls", "csv": "18_日期无年份.csv"}[ext],
        "日期不写年份（6月3日、6/11、6.5、数字 6.24），年份取自标题 2026年6月",
        stored=keys(acts),
        header_rows={name: [2]},
        context={"year": YEAR, "month": MONTH, "town": "泥江口镇"},
        guessed_dates=True,
    )
    if ext == "csv":
        case.data = gbk_csv(s)
    else:
        case.sheets = {name}
        case.data = xlsx([s]) if ext == "xlsx" else xls([s])
    return case


def yearless_without_year() -> Case:
    """Year-less dates with no year in a title, the sheet name or the file name: bad_date with a hint."""
    s = Sheet("Sheet1")
    s.add("单位名称", "活动日期", "活动名称", "参与人数")
    refused = set()
    for a, style in zip([*INSTITUTE, *YOUCAOTANG], ["cn", "slash", "num", None, None], strict=True):
        r = s.add(LABEL[a.code], a.when if style is None else md(a, style), a.title, a.people)
        if style is not None:
            refused.add(("Sheet1", r, "bad_date"))
    return Case(
        "19_日期无年份_无标题.xlsx",
        "日期不写年份且标题、工作表名、文件名都没有年份：bad_date，提示补年份",
        data=xlsx([s]),
        stored=keys(YOUCAOTANG),
        refused=refused,
        message_has=dict.fromkeys(refused, "年"),
        column_of=dict.fromkeys(refused, "活动日期"),
        sheets={"Sheet1"},
        header_rows={"Sheet1": [1]},
    )


def same_name(kind: str) -> Case:
    """和平村 is a station in both 泥江口镇 and 兰溪镇: the title, the upload's township or the file name settles it."""
    title = {"title": NJK_TITLE, "picked": None, "none": None, "lx_csv": LX_TITLE, "lx_file": None}[kind]
    name = "" if kind == "lx_csv" else "Sheet1"
    s = Sheet(name)
    if title:
        s.add(title)
        if kind != "lx_csv":
            s.across(1, 1, 4)
    header = s.add("单位名称", "活动日期", "活动名称", "参与人数")
    lanxi = kind.startswith("lx")
    acts = [*HEPING_LX, *QINGSHAN] if lanxi else [*HEPING_NJK, YOUCAOTANG[0]]
    rows = {}
    for a in acts:
        when: object = md(a, "cn" if a.code == "LX-HP" else "num") if kind == "lx_file" else a.when
        rows[a] = s.add(LABEL[a.code], when, a.title, a.people)
    case = Case(
        {
            "title": "20_同名村_标题定乡镇.xlsx",
            "picked": "21_同名村_上传时选乡镇.xlsx",
            "none": "22_同名村_未定乡镇.xlsx",
            "lx_csv": "23_同名村_兰溪镇标题.csv",
            "lx_file": "24_兰溪镇2026年6月活动台账.xls",
        }[kind],
        {
            "title": "同名村（和平村）由标题中的泥江口镇确定",
            "picked": "同一文件无标题，上传时选定泥江口镇",
            "none": "同一文件无标题也未选乡镇：和平村报 ambiguous_unit",
            "lx_csv": "CSV 标题为兰溪镇：和平村归兰溪镇",
            "lx_file": "无标题，乡镇和年份取自文件名（兰溪镇2026年6月），日期不写年份",
        }[kind],
        stored=keys(acts),
        header_rows={name: [header]},
    )
    if kind == "picked":
        case.town = "泥江口镇"
    if kind == "none":
        case.stored = keys([YOUCAOTANG[0]])
        case.refused = {(name, rows[a], "ambiguous_unit") for a in HEPING_NJK}
    if kind in ("title", "lx_csv"):
        case.context = {"year": YEAR, "month": MONTH, "town": "兰溪镇" if lanxi else "泥江口镇"}
    if kind == "lx_file":
        case.context = {"year": YEAR, "month": MONTH, "town": "兰溪镇"}
        case.guessed_dates = True
    if kind == "lx_csv":
        case.data = gbk_csv(s)
    else:
        case.sheets = {name}
        case.data = xls([s]) if kind == "lx_file" else xlsx([s])
    return case


def line_break_headers(ext: str) -> Case:
    """Headers wrapped inside the cell (活动\\n日期): mapped, and named without the break."""
    s = Sheet("Sheet1")
    s.add("序号", "单位\n名称", "活动\n日期", "活动\n名称", "参与\n人数", "活动\n地点")
    acts = [*INSTITUTE, *YOUCAOTANG]
    rows = {}
    for i, a in enumerate(acts, 1):
        rows[a] = s.add(i, LABEL[a.code], a.when, a.title, a.people, a.place)
    no_date, worded_count = acts[3], acts[4]
    s.rows[rows[no_date] - 1][2] = None
    s.rows[rows[worded_count] - 1][4] = "十余人"  # read as 10 and stored (SPEC §7 round two), with a warning
    missing = ("Sheet1", rows[no_date], "missing_value")
    loose = ("Sheet1", rows[worded_count], "loose_number")
    case = Case(
        f"25_表头换行.{ext}" if ext == "xlsx" else f"26_表头换行.{ext}",
        "表头单元格内换行（活动\\n日期）：照样识别，提示中列名不带换行",
        stored=keys([*INSTITUTE, worded_count]),
        refused={missing},
        counts={worded_count.key: (10, None)},
        column_of={missing: "活动日期"},
        message_has={missing: "活动日期"},
        warned={loose: "参与人数"},
        sheets={"Sheet1"},
        header_rows={"Sheet1": [1]},
        columns={("活动日期", "活动日期"), ("单位名称", "单位名称"), ("参与人数", "参与人数")},
    )
    case.data = xlsx([s]) if ext == "xlsx" else xls([s])
    return case


def everything(ext: str) -> Case:
    """Every habit at once: instructions first, titles, a two-row header in everyday words with a
    line break, merged units, year-less dates, 和平村 settled by the title, 小计/合计, a numbered
    empty row, the sign-off, a station's own sheet and a 汇总 sheet."""
    notes = Sheet("填表说明" if ext == "xlsx" else "说明")
    for line in INSTRUCTIONS:
        notes.add(line)
    t = Sheet("台账")
    t.add(NJK_TITLE)
    t.across(1, 1, 9)
    t.add("填报单位：泥江口镇党委宣传办")
    t.across(2, 1, 9)
    top = t.add("序号", "单位", "活动\n时间", "活动主题", "活动形式", "参与人数", None, "地点", "主讲人")
    sub = t.add(None, None, None, None, None, "群众", "志愿者", None, None)
    for c in (1, 2, 3, 4, 5, 8, 9):
        t.down(c, top, sub)
    t.across(top, 6, 7)
    skipped: list[int] = []
    n = 0

    def group(acts: list[Act], styles: list[str]) -> None:
        nonlocal n
        first = 0
        for i, (a, style) in enumerate(zip(acts, styles, strict=True)):
            n += 1
            r = t.add(
                n,
                LABEL[a.code] if i == 0 else None,
                md(a, style),
                a.title,
                a.category,
                a.people,
                a.volunteers,
                a.place,
                "",
            )
            first = first or r
        t.down(2, first, r)

    def total(word: str, acts: list[Act]) -> None:
        r = t.add(
            word, None, None, None, None, sum(a.people for a in acts), sum(a.volunteers for a in acts), None, None
        )
        t.across(r, 1, 5)
        skipped.append(r)

    group(INSTITUTE, ["cn", "num", "slash"])
    total("小计", INSTITUTE)
    group(HEPING_NJK, ["cn", "num"])
    group(XINHUA, ["cn", "cn"])
    late = JIANGNAN[1]  # 江南社区's second activity, its unit cell left blank and not merged
    n += 1
    blank = t.add(n, None, md(late, "cn"), late.title, late.category, late.people, late.volunteers, late.place, "")
    a = JIANGNAN[0]
    n += 1
    t.add(n, LABEL[a.code], md(a, "dot"), a.title, a.category, a.people, a.volunteers, a.place, "")
    n += 1
    skipped.append(t.add(n, None, None, None, None, None, None, None, None))
    table_acts = [*INSTITUTE, *HEPING_NJK, *XINHUA, a]
    total("合计", table_acts)
    sign = t.add(SIGN_OFF)
    t.across(sign, 1, 9)
    skipped.append(sign)

    station = Sheet("油草塘村")
    station.add("2026年6月活动记录")
    station.across(1, 1, 6)
    station.add("序号", "日期", "活动内容", "类别", "参与人次", "地点")
    for i, (act, style) in enumerate(zip(YOUCAOTANG, ["cn", "num"], strict=True), 1):
        station.add(i, md(act, style), act.title, act.category, act.people, act.place)

    summary = Sheet("汇总")
    summary.add("单位", "活动场次", "参与人数")
    for code, acts in (("NJK-S", INSTITUTE), ("NJK-HP", HEPING_NJK), ("NJK-XH", XINHUA), ("NJK-YCT", YOUCAOTANG)):
        summary.add(LABEL[code], len(acts), sum(x.people for x in acts))

    where = ("台账", blank, "missing_value")
    stored = [*table_acts, *YOUCAOTANG]
    case = Case(
        f"27_全部习惯.{ext}" if ext == "xlsx" else f"28_全部习惯.{ext}",
        "全部习惯同时出现：说明页、两行标题、两行表头、日常表头、换行表头、合并单位、无年份日期、"
        "同名村、小计/合计、序号空行、签字行、一站一表、汇总页",
        stored=keys(stored),
        refused={where},
        counts={x.key: (x.people, x.volunteers) for x in table_acts},
        column_of={where: "单位"},
        message_has={where: "合并单元格"},
        skipped_rows={("台账", r) for r in skipped},
        sheets={"台账", "油草塘村"},
        skipped_sheets={notes.name, "汇总"},
        header_rows={"台账": [top, sub], "油草塘村": [2]},
        unit_from_sheet={"油草塘村"},
        columns={
            ("单位", "单位名称"),
            ("活动时间", "活动日期"),
            ("活动主题", "活动名称"),
            ("活动形式", "活动类型"),
            ("群众", "参与人数"),
            ("志愿者", "志愿者人数"),
            ("地点", "活动地点"),
            ("日期", "活动日期"),
            ("活动内容", "活动名称"),
            ("类别", "活动类型"),
            ("参与人次", "参与人数"),
        },
        unmapped={"主讲人"},
        guessed_dates=True,
    )
    sheets = [notes, t, station, summary]
    case.data = xlsx(sheets) if ext == "xlsx" else xls(sheets)
    return case


def cases() -> list[Case]:
    return [
        template("csv"),
        template("xlsx"),
        merged_units("xlsx"),
        merged_units("xls"),
        station_sheets("xlsx"),
        station_sheets("xls"),
        instructions_first("xlsx"),
        instructions_first("xls"),
        everyday_headers("xlsx"),
        everyday_headers("csv"),
        everyday_headers("xls"),
        title_two_row_header("xlsx"),
        title_two_row_header("xls"),
        title_csv(),
        totals_and_sign_off("xlsx"),
        totals_and_sign_off("xls"),
        totals_and_sign_off("csv"),
        yearless("xlsx"),
        yearless("xls"),
        yearless("csv"),
        yearless_without_year(),
        same_name("title"),
        same_name("picked"),
        same_name("none"),
        same_name("lx_csv"),
        same_name("lx_file"),
        line_break_headers("xlsx"),
        line_break_headers("xls"),
        everything("xlsx"),
        everything("xls"),
    ]


def build(folder: Path) -> list[Case]:
    """Write every file of the corpus into folder and return the cases."""
    folder.mkdir(parents=True, exist_ok=True)
    built = cases()
    for case in built:
        (folder / case.name).write_bytes(case.data)
    return built


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "office_corpus")
    for case in build(target):
        print(f"{case.name}\t入库 {len(case.stored)}\t拒收 {len(case.refused)}\t{case.habit}")
    print(f"{len(cases())} files in {target}")
