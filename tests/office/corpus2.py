"""Round two of the township ledgers (SPEC §7, the "(round two)" bullets): `cases()` builds each file
in memory and returns its Case — the bytes, the activities that must be stored, the rows that must
be refused or set aside, and what the counts, the text as written and the pictures must be.

Every expectation is written by hand from what the file holds. Row numbers are the ones Excel
shows (the title rows count); a refused row of the table printed to the right of another is
named on the sheet "<sheet>（右侧表格）".

    python tests/office/corpus2.py FOLDER      # writes the corpus for a person to open, and lists it
"""

from __future__ import annotations

import io
import random
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import docx
import openpyxl
from docx.shared import Cm
from openpyxl.drawing.image import Image as SheetImage
from PIL import Image, ImageDraw

if __name__ == "__main__":  # run as a script: the repository's root on the path for `tests.office.corpus`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.office.corpus import (  # noqa: E402
    EXTRA_UNITS,
    INSTITUTE,
    JIANGNAN,
    LABEL,
    NJK_TITLE,
    SIGN_OFF,
    YOUCAOTANG,
    Act,
    Key,
    Sheet,
    Where,
    xls,
    xlsx,
)

YEAR, MONTH = 2026, 6
HS_TITLE = "赫山街道2026年6月新时代文明实践活动台账"
NJK_CONTINUED = "泥江口镇2026年6月新时代文明实践活动台账（续表）"
HS_CONTINUED = "赫山街道2026年6月新时代文明实践活动台账（续表）"

# Units added to EXTRA_UNITS + tests/factories.SMALL_ROSTER for round two: a 街道 whose institute's
# name starts with the township's, and a second 新华村 (兰溪镇), so that a bare 新华村 needs the
# title's township.
ROUND_TWO_UNITS: list[dict[str, object]] = [
    *EXTRA_UNITS,
    {"code": "HS-S", "name": "赫山街道新时代文明实践所", "type": "所", "town": "赫山街道"},
    {"code": "HS-THL", "name": "桃花仑社区新时代文明实践站", "type": "站", "town": "赫山街道"},
    {"code": "HS-ZJW", "name": "赵家湾村新时代文明实践站", "type": "站", "town": "赫山街道"},
    {"code": "LX-XH", "name": "新华村新时代文明实践站", "type": "站", "town": "兰溪镇"},
]
TOWNS = ("泥江口镇", "兰溪镇", "赫山街道")

Place = tuple[str, int]  # (sheet, row as Excel shows it)
LEDGER = ["序号", "单位名称", "活动日期", "活动名称", "参与人数"]


def key(code: str, day: int, title: str) -> Key:
    return (code, date(YEAR, MONTH, day).isoformat(), title)


def on(day: int) -> datetime:
    return datetime(YEAR, MONTH, day)


@dataclass
class Case:
    name: str
    habit: str
    data: bytes = b""
    stored: set[Key] = field(default_factory=set)
    refused: set[Where] = field(default_factory=set)  # (sheet, row, code)
    set_aside: set[Place] = field(default_factory=set)  # at least these in reading["skipped_rows"], never errors
    hidden: dict[Place, str] = field(default_factory=dict)  # hidden rows -> the title they hold
    counts: dict[Key, int | None] = field(default_factory=dict)  # participants as stored (None = NULL)
    volunteers: dict[Key, int | None] = field(default_factory=dict)
    photo_count: dict[Key, int | None] = field(default_factory=dict)  # the 图片数 / 照片 column as stored
    written: dict[Key, dict[str, str]] = field(default_factory=dict)  # as_written: header -> text, at least
    plain: set[Key] = field(default_factory=set)  # rows read as they stand: as_written == ""
    photos: dict[Key, int] = field(default_factory=dict)  # pictures in the file attached (Photo rows)
    pictures: dict[str, int] | None = None  # reading["photos"] of the preview and the import
    town: str | None = None  # the township picked at upload
    duplicates: int = 0
    message_has: dict[Where, str] = field(default_factory=dict)
    loose_columns: set[str] | None = field(
        default_factory=set
    )  # loose_number warnings, one per column; None: unchecked
    typed_dates: set[Place] = field(default_factory=set)  # at least these rows warn date_as_typed
    not_typed: set[Place] = field(default_factory=set)  # rows whose date is read as it stands
    unmapped: set[str] = field(default_factory=set)  # headers named as not understood, at least
    unused: dict[str, str] = field(default_factory=dict)  # sheet -> the column letter of content not used
    blocks: set[str] = field(default_factory=set)  # sheets printed as two tables side by side

    @property
    def extension(self) -> str:
        return self.name.rsplit(".", 1)[-1]


# --- formats the round-one helpers do not write ---------------------------------------------


def reopened(data: bytes, edit: Callable[[openpyxl.Workbook], None]) -> bytes:
    """An .xlsx from corpus.xlsx, changed the way a clerk's Excel leaves it (hidden rows, a filter, pictures)."""
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    edit(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def shown(value: object) -> str:
    """A cell as Excel shows it when it saves the sheet as text."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value.year}/{value.month}/{value.day}"
    return str(value)


def unicode_text(spec: Sheet) -> bytes:
    """Excel's "Unicode 文本 (*.txt)": UTF-16 LE with its BOM, tab-separated, CRLF, every row as wide as the table."""
    lines = ["\t".join(shown(v) for v in [*row, *[None] * (spec.width - len(row))]) for row in spec.rows]
    return b"\xff\xfe" + "".join(line + "\r\n" for line in lines).encode("utf-16-le")


ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def ods(spec: Sheet) -> bytes:
    """A minimal OpenDocument spreadsheet as LibreOffice or WPS saves one: text cells, numbers and dates."""

    def cell(value: object) -> str:
        if value is None:
            return "<table:table-cell/>"
        if isinstance(value, datetime):
            return (
                f'<table:table-cell office:value-type="date" office:date-value="{value.date().isoformat()}">'
                f"<text:p>{value.year}-{value.month:02d}-{value.day:02d}</text:p></table:table-cell>"
            )
        if isinstance(value, int):
            number = f'office:value-type="float" office:value="{value}"'
            return f"<table:table-cell {number}><text:p>{value}</text:p></table:table-cell>"
        return f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'

    rows = "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in spec.rows)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<office:document-content {ODS_NS} office:version="1.2"><office:body><office:spreadsheet>'
        f'<table:table table:name="{escape(spec.name)}">{rows}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")  # stored, first
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def picture(seed: int, kind: str = "PNG", taken: str = "") -> bytes:
    """A photo unlike any other (its own shapes and colours, so its own hash), 96×80 px; a JPEG
    carries the camera's DateTimeOriginal when `taken` is given ("2026:06:05 09:31:12")."""
    rng = random.Random(seed)
    image = Image.new("RGB", (96, 80), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(80), rng.randrange(64)
        box = (x, y, x + rng.randrange(8, 40), y + rng.randrange(8, 40))
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    draw.text((4, 4), str(seed), fill=(255, 255, 255))
    out = io.BytesIO()
    if kind == "JPEG":
        exif = Image.Exif()
        if taken:
            exif[0x0132] = taken
            exif.get_ifd(0x8769)[0x9003] = taken
        image.save(out, "JPEG", quality=85, exif=exif.tobytes())
    else:
        image.save(out, "PNG")
    return out.getvalue()


def word_bytes(document: docx.document.Document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def word_table(document: docx.document.Document, rows: list[list[object]]) -> None:
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = shown(value)


# --- 1. counts as written ---------------------------------------------------------------------


def loose_counts() -> Case:
    """参与人数 as clerks write it (30余人, 约40人, 40-50人, 100+, 三十人, 全体党员, 若干, 见附件, -5, 200000),
    志愿者人数 once as 5名, and a 照片 column holding a remark."""
    s = Sheet("Sheet1")
    s.add(NJK_TITLE)
    s.across(1, 1, 7)
    s.add("序号", "单位名称", "活动日期", "活动名称", "参与人数", "志愿者人数", "照片")
    yct, jn, inst = LABEL["NJK-YCT"], LABEL["NJK-JN"], LABEL["NJK-S"]
    s.add(1, yct, on(3), "理论宣讲进村", "30余人", 4, 3)
    s.add(2, yct, on(5), "移风易俗倡议宣讲", "约40人", "5名", 2)
    s.add(3, jn, on(6), "垃圾分类宣传", "40-50人", 6, 4)
    s.add(4, jn, on(12), "广场舞展演", "100+", 8, 2)
    s.add(5, inst, on(3), "学习贯彻党的二十大精神宣讲", "30人（其中党员12人）", 6, 2)
    s.add(6, inst, on(11), "端午节包粽子邻里活动", "三十人", 5, 3)
    s.add(7, yct, on(18), "关爱留守儿童志愿服务", "全体党员", 9, 2)
    s.add(8, jn, on(19), "党员主题党日活动", "若干", 3, 1)
    s.add(9, inst, on(24), "防溺水安全知识宣传", "见附件", 10, "见附件")
    s.add(10, yct, on(25), "健康义诊进村", -5, 7, 2)
    s.add(11, jn, on(26), "夏季防溺水宣传", 200000, 5, 2)
    s.add(12, yct, on(27), "农家书屋读书会", 45, 6, 2)
    k = {
        3: key("NJK-YCT", 3, "理论宣讲进村"),
        4: key("NJK-YCT", 5, "移风易俗倡议宣讲"),
        5: key("NJK-JN", 6, "垃圾分类宣传"),
        6: key("NJK-JN", 12, "广场舞展演"),
        7: key("NJK-S", 3, "学习贯彻党的二十大精神宣讲"),
        8: key("NJK-S", 11, "端午节包粽子邻里活动"),
        9: key("NJK-YCT", 18, "关爱留守儿童志愿服务"),
        10: key("NJK-JN", 19, "党员主题党日活动"),
        11: key("NJK-S", 24, "防溺水安全知识宣传"),
        12: key("NJK-YCT", 25, "健康义诊进村"),
        13: key("NJK-JN", 26, "夏季防溺水宣传"),
        14: key("NJK-YCT", 27, "农家书屋读书会"),
    }
    people = {3: 30, 4: 40, 5: 40, 6: 100, 7: 30, 8: 30, 9: None, 10: None, 11: None, 12: None, 13: None, 14: 45}
    return Case(
        "30_人数写法.xlsx",
        "参与人数写成 30余人、约40人、40-50人、100+、30人（其中党员12人）、三十人 照读；"
        "全体党员、若干、见附件、-5、200000 留空；志愿者 5名；照片列写“见附件”：每行都入库，每列一条提示，原文保留",
        data=xlsx([s]),
        stored=set(k.values()),
        counts={k[r]: n for r, n in people.items()},
        volunteers={k[3]: 4, k[4]: 5, k[14]: 6},
        photo_count={k[3]: 3, k[11]: None, k[14]: 2},
        written={
            k[3]: {"参与人数": "30余人"},
            k[4]: {"参与人数": "约40人", "志愿者人数": "5名"},
            k[5]: {"参与人数": "40-50人"},
            k[6]: {"参与人数": "100+"},
            k[8]: {"参与人数": "三十人"},
            k[9]: {"参与人数": "全体党员"},
            k[10]: {"参与人数": "若干"},
            k[11]: {"参与人数": "见附件", "照片": "见附件"},
        },
        plain={k[14]},
        loose_columns={"参与人数", "志愿者人数", "照片"},
    )


# --- 2. dates as typed ------------------------------------------------------------------------


def typed_dates() -> Case:
    """Time of day, weekday, words around the date, ranges and a day alone; year and month from the title."""
    s = Sheet("Sheet1")
    s.add(NJK_TITLE)
    s.across(1, 1, 5)
    s.add(*LEDGER)
    inst, yct, jn, xh = LABEL["NJK-S"], LABEL["NJK-YCT"], LABEL["NJK-JN"], "新华村"
    rows = [
        ("NJK-S", inst, "2026年6月3日上午", 3, "学习贯彻党的二十大精神宣讲", 45),
        ("NJK-YCT", yct, "6月3日下午3点", 3, "理论宣讲进村", 30),
        ("NJK-JN", jn, "2026-06-04 9:00-11:30", 4, "垃圾分类宣传", 40),
        ("NJK-YCT", yct, "2026年6月4日（周四）", 4, "移风易俗倡议宣讲", 30),
        ("NJK-XH", xh, "2026-06-04 星期四", 4, "农村法律知识讲座", 35),
        ("NJK-JN", jn, "于2026年6月5日开展", 5, "广场舞展演", 90),
        ("NJK-S", inst, "2026.6.9-6.10", 9, "道德讲堂", 50),
        ("NJK-YCT", yct, "2026年6月26日至28日", 26, "农耕文化体验", 28),
        ("NJK-JN", jn, "26日至28日", 26, "夏季防溺水宣传", 60),
        ("NJK-XH", xh, "26日", 26, "健康义诊进村", 50),
    ]
    at: dict[int, Key] = {}
    counts: dict[Key, int | None] = {}
    for n, (code, label, when, day, title, people) in enumerate(rows, 1):
        at[s.add(n, label, when, title, people)] = key(code, day, title)
        counts[key(code, day, title)] = people
    plain_row = s.add(len(rows) + 1, yct, on(12), "关爱留守儿童志愿服务", 25)
    at[plain_row] = key("NJK-YCT", 12, "关爱留守儿童志愿服务")
    counts[at[plain_row]] = 25
    typed = {("Sheet1", r) for r in at if r != plain_row}
    return Case(
        "31_日期写法.xlsx",
        "日期带上午/下午、几点、星期、“于…开展”、日期范围（取第一天）、只写“26日”（年月取自标题）：按日入库并提示，原文保留",
        data=xlsx([s]),
        stored=set(at.values()),
        counts=counts,
        written={
            at[3]: {"活动日期": "2026年6月3日上午"},
            at[4]: {"活动日期": "6月3日下午3点"},
            at[5]: {"活动日期": "2026-06-04 9:00-11:30"},
            at[8]: {"活动日期": "于2026年6月5日开展"},
            at[9]: {"活动日期": "2026.6.9-6.10"},
            at[11]: {"活动日期": "26日至28日"},
            at[12]: {"活动日期": "26日"},
        },
        plain={at[plain_row]},
        typed_dates=typed,
        not_typed={("Sheet1", plain_row)},
    )


def day_only_without_context() -> Case:
    """A day alone with nothing above it to give the month: bad_date; the same habit below a full date: read."""
    s = Sheet("Sheet1")
    s.add("单位名称", "活动日期", "活动名称", "参与人数")
    first = s.add(LABEL["NJK-YCT"], "3日", "理论宣讲进村", 30)
    s.add(LABEL["NJK-YCT"], on(12), "关爱留守儿童志愿服务", 25)
    later = s.add(LABEL["NJK-JN"], "26日", "广场舞展演", 90)
    return Case(
        "32_日期只写日_无标题.xlsx",
        "只写“3日”，标题、工作表名、文件名和上面的行都没有年月：bad_date；下面一行的“26日”取上一行的 2026年6月",
        data=xlsx([s]),
        stored={key("NJK-YCT", 12, "关爱留守儿童志愿服务"), key("NJK-JN", 26, "广场舞展演")},
        refused={("Sheet1", first, "bad_date")},
        typed_dates={("Sheet1", later)},
        written={key("NJK-JN", 26, "广场舞展演"): {"活动日期": "26日"}},
    )


# --- 3. unit names as written -----------------------------------------------------------------


def unit_names_hs() -> Case:
    """赫山街道's ledger: 居委会 / 居民委员会 / 党群服务中心 / 村委会 suffixes, brackets, a full-width space,
    traditional characters, 街道新时代文明实践所 alone, and a typo."""
    s = Sheet("Sheet1")
    s.add(HS_TITLE)
    s.across(1, 1, 5)
    s.add(*LEDGER)
    rows = [
        ("HS-S", "街道新时代文明实践所", 2, "学习贯彻党的二十大精神宣讲"),
        ("HS-S", "赫山街道新时代文明实践所", 9, "防诈骗知识讲座"),
        ("HS-THL", "桃花仑社区居委会", 3, "垃圾分类宣传"),
        ("HS-THL", "桃花仑社区居民委员会", 10, "广场舞展演"),
        ("HS-THL", "桃花仑社区党群服务中心", 17, "敬老院慰问"),
        ("HS-THL", "桃花仑社区（新时代文明实践站）", 24, "夏季防溺水宣传"),
        ("HS-ZJW", "赵家湾村村委会", 4, "移风易俗倡议宣讲"),
        ("HS-ZJW", "赵家湾村村民委员会", 11, "关爱留守儿童志愿服务"),
        ("HS-ZJW", "(赵家湾村)", 18, "农家书屋读书会"),
        ("HS-ZJW", "趙家灣村", 25, "清洁家园志愿服务"),
        ("HS-ZJW", "赵家湾村\u3000新时代文明实践站", 26, "健康义诊进村"),
    ]
    for n, (_, label, day, title) in enumerate(rows, 1):
        s.add(n, label, on(day), title, 30 + n)
    typo = s.add(len(rows) + 1, "桃花仑社", on(27), "反诈骗知识宣传", 40)
    where = ("Sheet1", typo, "unknown_unit")
    return Case(
        "33_单位写法_赫山街道.xlsx",
        "单位名称带居委会、居民委员会、党群服务中心、村委会、括号、全角空格、繁体字；“街道新时代文明实践所”即本街道的所；"
        "“桃花仑社”报 unknown_unit，建议“桃花仑社区”，乡镇名不重复",
        data=xlsx([s]),
        stored={key(code, day, title) for code, _, day, title in rows},
        refused={where},
        message_has={where: "桃花仑社区"},
    )


def unit_names_njk() -> Case:
    """泥江口镇's ledger: the same habits, 镇新时代文明实践所 alone, a bare 新华村 settled by the title,
    and 油草糖村."""
    s = Sheet("Sheet1")
    s.add(NJK_TITLE)
    s.across(1, 1, 5)
    s.add(*LEDGER)
    rows = [
        ("NJK-S", "镇新时代文明实践所", 3, "学习贯彻党的二十大精神宣讲"),
        ("NJK-YCT", "油草塘村村委会", 5, "移风易俗倡议宣讲"),
        ("NJK-YCT", "油草塘村（新时代文明实践站）", 18, "关爱留守儿童志愿服务"),
        ("NJK-YCT", "(油草塘村)", 19, "农家书屋读书会"),
        ("NJK-YCT", "油草塘村新時代文明實踐站", 20, "健康义诊进村"),
        ("NJK-YCT", "油 草 塘 村", 21, "清洁家园志愿服务"),
        ("NJK-JN", "江南社区居委会", 12, "垃圾分类宣传"),
        ("NJK-JN", "江南社区居民委员会", 26, "广场舞展演"),
        ("NJK-JN", "江南社区党群服务中心", 27, "夏季防溺水宣传"),
        ("NJK-XH", "新华村村民委员会", 9, "农村法律知识讲座"),
        ("NJK-XH", "新华村", 21, "健康义诊进村"),
    ]
    for n, (_, label, day, title) in enumerate(rows, 1):
        s.add(n, label, on(day), title, 20 + n)
    typo = s.add(len(rows) + 1, "油草糖村", on(28), "防汛知识宣传", 40)
    where = ("Sheet1", typo, "unknown_unit")
    return Case(
        "34_单位写法_泥江口镇.xlsx",
        "单位名称带村委会、居委会、居民委员会、党群服务中心、全角/半角括号、空格、繁体字；“镇新时代文明实践所”即本镇的所；"
        "同名新华村由标题定；“油草糖村”报 unknown_unit，建议“泥江口镇油草塘村”",
        data=xlsx([s]),
        stored={key(code, day, title) for code, _, day, title in rows},
        refused={where},
        message_has={where: "泥江口镇油草塘村"},
    )


# --- 4. nothing lost without a word -----------------------------------------------------------

SIDE_BY_SIDE = [
    ("NJK-S", 3, "学习贯彻党的二十大精神宣讲", 45),
    ("NJK-S", 11, "端午节包粽子邻里活动", 60),
    ("NJK-S", 24, "防溺水安全知识宣传", 80),
    ("NJK-YCT", 5, "移风易俗倡议宣讲", 30),
    ("NJK-YCT", 18, "关爱留守儿童志愿服务", 25),
    ("NJK-YCT", 20, "农家书屋读书会", 18),
    ("NJK-JN", 12, "垃圾分类宣传", 40),
    ("NJK-JN", 26, "广场舞展演", 90),
    # the right-hand table
    ("NJK-JN", 6, "敬老院慰问", 22),
    ("NJK-JN", 19, "党员主题党日活动", 35),
    ("NJK-YCT", 9, "农村法律知识讲座", 33),
    ("NJK-YCT", 27, "文明家庭表彰会", 50),
    ("NJK-S", 16, "清洁家园志愿服务", 41),
    ("NJK-S", 28, "七一主题党日活动", 55),
    ("NJK-JN", 29, "夏季防溺水宣传", 60),
]


def side_by_side(with_error: bool) -> Case:
    """A ledger printed as two tables side by side (rows 1–8 left, 9–15 right, an empty column between)."""
    s = Sheet("台账")
    s.add(NJK_TITLE)
    s.across(1, 1, 11)
    s.add(*LEDGER, None, *LEDGER)
    left, right = SIDE_BY_SIDE[:8], SIDE_BY_SIDE[8:]
    for i in range(len(left)):
        code, day, title, people = left[i]
        row: list[object] = [i + 1, LABEL[code], on(day), title, people]
        if i < len(right):
            rcode, rday, rtitle, rpeople = right[i]
            row += [None, i + 9, LABEL[rcode], on(rday), rtitle, rpeople]
        s.add(*row)
    acts = SIDE_BY_SIDE
    refused: set[Where] = set()
    if with_error:  # 序号 12, the right-hand table's fourth row (Excel row 6): a day June does not have
        s.rows[5][8] = "2026-06-31"
        refused = {("台账（右侧表格）", 6, "bad_date")}
        acts = [a for a in SIDE_BY_SIDE if a[2] != "文明家庭表彰会"]
    return Case(
        "36_左右两表_右侧有错.xlsx" if with_error else "35_左右两表.xlsx",
        "一张表打印成左右两栏（第 1–8 条在左，9–15 条在右，中间空一列）：两边都读"
        + ("；右侧表格的错日期报在“台账（右侧表格）”第 6 行" if with_error else ""),
        data=xlsx([s]),
        stored={key(code, day, title) for code, day, title, _ in acts},
        refused=refused,
        counts={key(code, day, title): people for code, day, title, people in acts},
        blocks={"台账"},
    )


def hidden_rows() -> Case:
    """Rows marked 作废 hidden by an autofilter on 备注 (A2:H12), and a row appended below hidden by hand."""
    s = Sheet("Sheet1")
    s.add(NJK_TITLE)
    s.across(1, 1, 8)
    s.add("序号", "单位名称", "活动日期", "活动名称", "活动类型", "参与人数", "活动地点", "备注")
    inst, yct, jn = LABEL["NJK-S"], LABEL["NJK-YCT"], LABEL["NJK-JN"]
    rows = [
        ("NJK-S", inst, 3, "学习贯彻党的二十大精神宣讲", "理论宣讲", 45, "镇文化站", ""),
        ("NJK-S", inst, 11, "端午节包粽子邻里活动", "文体活动", 60, "镇文化广场", ""),
        ("NJK-YCT", yct, 4, "移风易俗倡议宣讲会", "移风易俗", 30, "油草塘村部", "作废"),
        ("NJK-YCT", yct, 5, "移风易俗倡议宣讲", "移风易俗", 30, "油草塘村部", "日期更正"),
        ("NJK-YCT", yct, 18, "关爱留守儿童志愿服务", "志愿服务", 25, "油草塘村部", ""),
        ("NJK-JN", jn, 12, "垃圾分类宣传", "科普宣传", 40, "江南社区广场", ""),
        ("NJK-JN", jn, 13, "垃圾分类入户宣传", "科普宣传", 40, "江南社区", "作废"),
        ("NJK-JN", jn, 26, "广场舞展演", "文体活动", 90, "江南社区广场", ""),
        ("NJK-S", inst, 24, "防溺水安全知识宣传", "科普宣传", 80, "镇中心小学", ""),
        ("NJK-YCT", yct, 20, "农家书屋读书会", "文体活动", 18, "油草塘村农家书屋", ""),
        # appended after the filter was set
        ("NJK-JN", jn, 27, "夏季消防演练", "科普宣传", 35, "江南社区", ""),
        ("NJK-YCT", yct, 28, "文明家庭表彰会", "其他", 50, "油草塘村部", ""),
    ]
    at: dict[int, tuple[str, int, str]] = {}
    voided = []
    for n, (code, label, day, title, category, people, place, note) in enumerate(rows, 1):
        r = s.add(n, label, on(day), title, category, people, place, note)
        at[r] = (code, day, title)
        if note == "作废":
            voided.append(r)
    by_hand = 13  # 夏季消防演练, below the filter's range

    def edit(workbook: openpyxl.Workbook) -> None:
        ws = workbook["Sheet1"]
        ws.auto_filter.ref = "A2:H12"
        ws.auto_filter.add_filter_column(7, ["日期更正"], blank=True)  # 备注: all but 作废
        for r in [*voided, by_hand]:
            ws.row_dimensions[r].hidden = True

    hidden = {("Sheet1", r): at[r][2] for r in [*voided, by_hand]}
    return Case(
        "37_筛选隐藏行.xlsx",
        "按备注筛选隐藏了“作废”的行，另有一行手工隐藏：隐藏的行不入库，逐行列出",
        data=reopened(xlsx([s]), edit),
        stored={key(*at[r]) for r in at if ("Sheet1", r) not in hidden},
        hidden=hidden,
        set_aside=set(hidden),
    )


def unused_content() -> Case:
    """A 联系人 column nobody asked for, and a note typed in column L beside the table, with no header."""
    s = Sheet("Sheet1")
    s.add("序号", "单位名称", "活动日期", "活动名称", "参与人数", "联系人")
    acts = [*INSTITUTE, *YOUCAOTANG, JIANGNAN[0]]
    contact = {"NJK-S": "李四 13800000002", "NJK-YCT": "王五 13800000003", "NJK-JN": "孙七 13800000005"}
    for n, a in enumerate(acts, 1):
        s.add(n, LABEL[a.code], a.when, a.title, a.people, contact[a.code])
    s.rows[4] += [None] * 5 + ["注：江南社区6月26日活动照片未报"]
    s.rows[5] += [None] * 5 + ["请于7月5日前补报"]
    return Case(
        "38_未识别列与表外备注.xlsx",
        "多出“联系人”列；表格右边 L5:L6 手写备注，无表头：都在识别结果中点名",
        data=xlsx([s]),
        stored={a.key for a in acts},
        counts={a.key: a.people for a in acts},
        unmapped={"联系人"},
        unused={"Sheet1": "L"},
    )


# --- 5. rows that are not activities ----------------------------------------------------------


def sections_and_continued() -> Case:
    """Section headings, 小计 per section, the title and header repeated after a page break (续表),
    and notes merged across a row."""
    s = Sheet("Sheet1")
    header = ["序号", "单位名称", "活动日期", "活动名称", "活动类型", "参与人数", "备注"]
    aside = []

    def across(text: str) -> None:
        r = s.add(text, *[None] * 6)
        s.across(r, 1, 7)
        aside.append(r)

    def subtotal(acts: list[Act]) -> None:
        r = s.add("小计", None, None, None, None, sum(a.people for a in acts), None)
        s.across(r, 1, 5)
        aside.append(r)

    s.add(NJK_TITLE)
    s.across(1, 1, 7)
    s.add(*header)
    n = 0

    def rows(acts: list[Act]) -> None:
        nonlocal n
        for a in acts:
            n += 1
            s.add(n, LABEL[a.code], a.when, a.title, a.category, a.people, "")

    xinhua = [
        Act("NJK-XH", 9, "农村法律知识讲座", "法治宣传", 35, 3, "新华村部"),
        Act("NJK-XH", 21, "健康义诊进村", "卫生健康", 50, 7, "新华村卫生室"),
    ]
    across("一、镇新时代文明实践所")
    rows(INSTITUTE)
    subtotal(INSTITUTE)
    across("二、村（社区）新时代文明实践站")
    stations = [*YOUCAOTANG, xinhua[0]]
    rows(stations)
    subtotal(stations)
    across(NJK_CONTINUED)
    aside.append(s.add(*header))
    across("以下为6月份补报活动")
    late = [xinhua[1], *JIANGNAN]
    rows(late)
    subtotal(late)
    across("注：活动照片已另行报送")
    acts = [*INSTITUTE, *stations, *late]
    return Case(
        "39_分节标题与续表.xlsx",
        "分节标题（一、镇新时代文明实践所 / 二、村（社区）新时代文明实践站）、各节小计、"
        "分页后重复的标题（续表）和表头、跨列的说明行：都列为跳过的行，不报错；--strict 照样全部入库",
        data=xlsx([s]),
        stored={a.key for a in acts},
        counts={a.key: a.people for a in acts},
        set_aside={("Sheet1", r) for r in aside},
    )


# --- 6. online-form exports -------------------------------------------------------------------

WJX_HEADER = [
    "序号",
    "提交答卷时间",
    "所用时间",
    "来源",
    "来源详情",
    "来自IP",
    "1、所属乡镇（街道）：",
    "2、村（社区）名称：",
    "3、活动时间：",
    "4、活动主题：",
    "5、参与人数：",
    "6、活动照片数：",
]


def wenjuanxing() -> Case:
    """A 问卷星 export: submission time and IP columns first, numbered questions with colons, one answer sent twice."""
    s = Sheet("Sheet1")
    s.add(*WJX_HEADER)
    answers = [
        ("2026/7/1 10:12:33", "125秒", "泥江口镇", "油草塘村", "2026-06-05", "移风易俗倡议宣讲", 30, 3, "NJK-YCT"),
        ("2026/7/1 10:20:05", "98秒", "泥江口镇", "和平村", "2026-06-08", "道德讲堂进村", 28, 2, "NJK-HP"),
        ("2026/7/1 11:02:40", "143秒", "兰溪镇", "和平村", "2026-06-08", "道德讲堂进村", 26, 2, "LX-HP"),
        ("2026/7/2 9:15:12", "87秒", "兰溪镇", "新华村", "2026-06-16", "读书分享会", 20, 1, "LX-XH"),
        ("2026/7/2 9:16:40", "61秒", "兰溪镇", "新华村", "2026-06-16", "读书分享会", 20, 1, "LX-XH"),  # sent twice
        ("2026/7/2 15:30:00", "204秒", "赫山街道", "桃花仑社区", "2026-06-10", "广场舞展演", 80, 4, "HS-THL"),
        ("2026/7/3 8:05:51", "112秒", "兰溪镇", "青山村", "2026-06-15", "反诈骗知识宣传", 42, 3, "LX-QS"),
    ]
    for n, (sent, took, town, unit, when, title, people, pics, _) in enumerate(answers, 1):
        s.add(
            n, sent, took, "手机提交", "直接访问", f"113.240.12.{n}(湖南-益阳)", town, unit, when, title, people, pics
        )
    stored = {key(code, int(when[-2:]), title): people for *_, when, title, people, _, code in answers}
    return Case(
        "40_问卷星导出.xlsx",
        "问卷星导出：题号和冒号去掉后识别表头，提交答卷时间（7月）不是活动日期，同一答卷提交两次只存一次",
        data=xlsx([s]),
        stored=set(stored),
        counts=stored,
        duplicates=1,
    )


def tencent_form() -> Case:
    """A 腾讯文档收集表 export: 提交者（自动）/提交时间（自动） first."""
    s = Sheet("Sheet1")
    s.add("提交者（自动）", "提交时间（自动）", "所属乡镇", "村（社区）名称", "活动开展日期", "活动主题", "参加人数")
    answers = [
        ("王五", "2026/07/02 09:15:20", "泥江口镇", "油草塘村", "2026/06/18", "关爱留守儿童志愿服务", 25, "NJK-YCT"),
        ("李梅", "2026/07/02 10:01:07", "泥江口镇", "新华村", "2026/06/21", "健康义诊进村", 50, "NJK-XH"),
        ("周强", "2026/07/03 16:44:10", "赫山街道", "赵家湾村", "2026/06/11", "关爱留守儿童志愿服务", 22, "HS-ZJW"),
        ("陈刚", "2026/07/03 17:20:33", "兰溪镇", "青山村", "2026/06/15", "反诈骗知识宣传", 42, "LX-QS"),
    ]
    for row in answers:
        s.add(*row[:-1])
    stored = {key(code, int(when[-2:]), title): people for *_, when, title, people, code in answers}
    return Case(
        "41_腾讯文档收集表.xlsx",
        "腾讯文档收集表导出：提交者、提交时间（自动）不是活动日期，所属乡镇定同名村",
        data=xlsx([s]),
        stored=set(stored),
        counts=stored,
    )


# --- 7. formats -------------------------------------------------------------------------------

SMALL = [INSTITUTE[0], *YOUCAOTANG, *JIANGNAN]


def small_ledger(name: str = "Sheet1") -> Sheet:
    s = Sheet(name)
    s.add(NJK_TITLE)
    s.add(*LEDGER)
    for n, a in enumerate(SMALL, 1):
        s.add(n, LABEL[a.code], a.when, a.title, a.people)
    return s


def small_case(name: str, habit: str, data: bytes) -> Case:
    return Case(name, habit, data=data, stored={a.key for a in SMALL}, counts={a.key: a.people for a in SMALL})


def unicode_txt() -> Case:
    return small_case(
        "42_Unicode文本.txt",
        "Excel 另存为“Unicode 文本”：UTF-16 LE 带 BOM，制表符分隔，CRLF",
        unicode_text(small_ledger()),
    )


def open_document() -> Case:
    return small_case("43_WPS表格.ods", "OpenDocument 表格（.ods）", ods(small_ledger()))


def word_ledger() -> Case:
    document = docx.Document()
    document.add_heading(NJK_TITLE, level=1)
    rows: list[list[object]] = [LEDGER]
    for n, a in enumerate(SMALL, 1):
        rows.append([n, LABEL[a.code], f"{a.when.year}年{a.when.month}月{a.when.day}日", a.title, a.people])
    word_table(document, rows)
    document.add_paragraph(SIGN_OFF)
    return small_case("44_Word台账.docx", "Word 文档里的台账表格，标题在表格上方", word_bytes(document))


RECORDS = [
    ("文明新风进万家宣讲", "2026年6月11日上午", 11, "油草塘村部", "约30人", 30),
    ("关爱留守儿童志愿服务", "2026年6月18日下午", 18, "油草塘村小学", "25人", 25),
    ("清洁家园志愿服务", "2026年6月25日", 25, "油草塘村各组", "40余人", 40),
]


def word_records() -> Case:
    """A station's 活动记录: one form table per activity, the unit in the heading, a photo in each form."""
    document = docx.Document()
    document.add_heading("泥江口镇油草塘村新时代文明实践站活动记录", level=1)
    for i, (title, when, _, place, people, _) in enumerate(RECORDS):
        if i:
            document.add_paragraph("")
        table = document.add_table(rows=6, cols=3)
        table.style = "Table Grid"
        fields = [
            ("活动名称", title),
            ("活动时间", when),
            ("活动地点", place),
            ("参与人数", people),
            ("活动内容", f"组织村民开展{title}，宣传文明新风，参与群众反响良好。"),
            ("活动照片", ""),
        ]
        for r, (label, value) in enumerate(fields):
            table.cell(r, 0).text = label
            merged = table.cell(r, 1).merge(table.cell(r, 2))
            merged.text = value
            if label == "活动照片":
                run = merged.paragraphs[0].add_run()
                run.add_picture(io.BytesIO(picture(100 + i, "JPEG", f"2026:06:{11 + 7 * i:02d} 09:30:00")), width=Cm(4))
    stored = {key("NJK-YCT", day, title): n for title, _, day, _, _, n in RECORDS}
    return Case(
        "45_Word活动记录.docx",
        "Word 活动记录：每场活动一张表（活动名称/时间/地点/人数/内容/照片），单位取自标题，照片挂到各自的活动",
        data=word_bytes(document),
        stored=set(stored),
        counts=stored,
        photos=dict.fromkeys(stored, 1),
        loose_columns=None,  # how a form's labels are named in a warning is the importer's own
    )


def word_letter() -> Case:
    """A .docx holding no ledger at all: a covering letter."""
    document = docx.Document()
    document.add_heading("关于报送2026年6月新时代文明实践活动台账的说明", level=1)
    for line in [
        "各村（社区）新时代文明实践站：",
        "请于7月3日前将6月份活动台账报镇党委宣传办，台账须按统一模板填写，每场活动填写一行。",
        "活动照片请另行打包报送，文件名写明村名、日期和活动名称。",
        "泥江口镇党委宣传办",
        "2026年6月28日",
    ]:
        document.add_paragraph(line)
    return Case(
        "46_Word说明函.docx",
        "只有文字、没有台账表格的 Word 文档：整份退回，说明这是 Word 文档",
        data=word_bytes(document),
    )


# --- 8. photos pasted into the workbook -------------------------------------------------------

PASTED = [
    *INSTITUTE,
    *YOUCAOTANG,
    *JIANGNAN,
    Act("NJK-YCT", 20, "农家书屋读书会", "文体活动", 18, 2, "油草塘村农家书屋"),
]


def pasted_photos() -> Case:
    """8 activities, two photos pasted over each row (columns H and I): 16 pictures."""
    s = Sheet("Sheet1")
    s.add(NJK_TITLE)
    s.across(1, 1, 8)
    s.add("序号", "单位名称", "活动日期", "活动名称", "活动类型", "参与人数", "活动地点", "活动照片")
    rows = [s.add(n, LABEL[a.code], a.when, a.title, a.category, a.people, a.place) for n, a in enumerate(PASTED, 1)]

    def edit(workbook: openpyxl.Workbook) -> None:
        ws = workbook["Sheet1"]
        ws.column_dimensions["H"].width = 16
        ws.column_dimensions["I"].width = 16
        for i, (r, a) in enumerate(zip(rows, PASTED, strict=True)):
            ws.row_dimensions[r].height = 66
            first = picture(2 * i, "JPEG", f"2026:06:{a.day:02d} 09:{10 + i:02d}:00")
            second = picture(2 * i + 1, "PNG")
            ws.add_image(SheetImage(io.BytesIO(first)), f"H{r}")
            ws.add_image(SheetImage(io.BytesIO(second)), f"I{r}")

    return Case(
        "47_表内照片.xlsx",
        "照片直接贴在台账里（每行两张，共 16 张）：预览说明 16 张照片对应 8 场活动，导入后挂到各自的活动，再导入不重复",
        data=reopened(xlsx([s]), edit),
        stored={a.key for a in PASTED},
        counts={a.key: a.people for a in PASTED},
        photos={a.key: 2 for a in PASTED},
        pictures={"pictures": 16, "activities": 8},
    )


# --- 9. every habit at once -------------------------------------------------------------------


def everything_hs() -> Case:
    """赫山街道's workbook with every round-two habit on one sheet."""
    name = "6月台账"
    s = Sheet(name)
    header = ["序号", "单位名称", "活动时间", "活动主题", "活动形式", "参加人数", "志愿者人数", "照片", "联系人"]
    aside: list[int] = []

    def across(text: str) -> int:
        r = s.add(text, *[None] * 8)
        s.across(r, 1, 9)
        aside.append(r)
        return r

    def total(word: str, people: int, volunteers: int, photos: int) -> None:
        r = s.add(word, None, None, None, None, people, volunteers, photos, None)
        s.across(r, 1, 5)
        aside.append(r)

    s.add(HS_TITLE)
    s.across(1, 1, 9)
    s.add(*header)
    across("一、街道新时代文明实践所")
    r4 = s.add(
        1, "街道新时代文明实践所", "2026年6月3日上午", "学习贯彻党的二十大精神宣讲", "理论宣讲", "约50人", 6, 3, "刘敏"
    )
    r5 = s.add(2, None, "6月10日下午3点", "端午节包粽子邻里活动", "文体活动", 60, 8, 2, "刘敏")
    s.down(2, r4, r5)
    total("小计", 110, 14, 5)
    across("二、村（社区）新时代文明实践站")
    r8 = s.add(3, "桃花仑社区居委会", on(4), "垃圾分类宣传", "科普宣传", "30余人", 5, 4, "周强")
    r9 = s.add(
        4, "桃花仑社区（新时代文明实践站）", "2026-06-12 星期五", "广场舞展演", "文体活动", 80, 5, "见附件", "周强"
    )
    r10 = s.add(5, "赵家湾村", on(5), "移风易俗倡议宣讲", "移风易俗", 30, 4, 2, "陈刚")  # hidden by hand
    r11 = s.add(6, "趙家灣村", "于2026年6月18日开展", "关爱留守儿童志愿服务", "志愿服务", "全体党员", 9, 2, "陈刚")
    r12 = s.add(7, "赵家湾村村民委员会", "26日", "清洁家园志愿服务", "志愿服务", 35, 11, 2, "陈刚")
    r13 = s.add(8, "桃花仑社", on(20), "反诈骗知识宣传", "法治宣传", 40, 5, 2, "周强")
    total("小计", 185, 30, 8)
    across("注：活动照片已另行报送")
    across(HS_CONTINUED)
    aside.append(s.add(*header))
    r18 = s.add(9, "赫山街道新时代文明实践所", "2026年6月26日至28日", "道德讲堂进社区", "理论宣讲", 70, 6, 3, "刘敏")
    r19 = s.add(10, "(赵家湾村)", "2026.6.9-6.10", "健康义诊进村", "卫生健康", "40-50人", 7, 2, "陈刚")
    total("合计", 335, 41, 15)
    across(SIGN_OFF)
    s.rows[r8 - 1] += [None, None, "6月25日桃花仑社区活动照片未上传"]  # a note in L8:L9, no header above it
    s.rows[r9 - 1] += [None, None, "已电话催报"]

    def edit(workbook: openpyxl.Workbook) -> None:
        workbook[name].row_dimensions[r10].hidden = True

    k = {
        r4: key("HS-S", 3, "学习贯彻党的二十大精神宣讲"),
        r5: key("HS-S", 10, "端午节包粽子邻里活动"),
        r8: key("HS-THL", 4, "垃圾分类宣传"),
        r9: key("HS-THL", 12, "广场舞展演"),
        r11: key("HS-ZJW", 18, "关爱留守儿童志愿服务"),
        r12: key("HS-ZJW", 26, "清洁家园志愿服务"),
        r18: key("HS-S", 26, "道德讲堂进社区"),
        r19: key("HS-ZJW", 9, "健康义诊进村"),
    }
    where = (name, r13, "unknown_unit")
    return Case(
        "48_全部习惯_赫山街道.xlsx",
        "全部习惯同时出现（赫山街道）：分节标题、小计、说明行、续表、合并单位、单位名称各种写法、日期写法、人数写法、"
        "照片列写“见附件”、手工隐藏的行、多出的联系人列、表格右边的备注、错字单位",
        data=reopened(xlsx([s]), edit),
        stored=set(k.values()),
        refused={where},
        message_has={where: "桃花仑社区"},
        set_aside={(name, r) for r in aside},
        hidden={(name, r10): "移风易俗倡议宣讲"},
        counts={k[r4]: 50, k[r5]: 60, k[r8]: 30, k[r9]: 80, k[r11]: None, k[r12]: 35, k[r18]: 70, k[r19]: 40},
        volunteers={k[r4]: 6, k[r11]: 9},
        photo_count={k[r8]: 4, k[r9]: None},
        written={
            k[r4]: {"参加人数": "约50人", "活动时间": "2026年6月3日上午"},
            k[r8]: {"参加人数": "30余人"},
            k[r9]: {"照片": "见附件"},
            k[r11]: {"参加人数": "全体党员"},
            k[r12]: {"活动时间": "26日"},
        },
        loose_columns={"参加人数", "照片"},
        typed_dates={(name, r) for r in (r4, r5, r9, r11, r12, r18, r19)},
        not_typed={(name, r8)},
        unmapped={"联系人"},
        unused={name: "L"},
    )


def everything_njk() -> Case:
    """泥江口镇's legacy .xls: every habit on 台账, and a 补报 sheet printed as two tables side by side."""
    t = Sheet("台账")
    header = ["序号", "单位名称", "活动日期", "活动名称", "活动类型", "参与人数", "志愿者人数", "联系人"]
    aside: list[int] = []

    def across(text: str) -> None:
        r = t.add(text, *[None] * 7)
        t.across(r, 1, 8)
        aside.append(r)

    def total(word: str, people: int, volunteers: int) -> None:
        r = t.add(word, None, None, None, None, people, volunteers, None)
        t.across(r, 1, 5)
        aside.append(r)

    t.add(NJK_TITLE)
    t.across(1, 1, 8)
    t.add(*header)
    across("一、镇新时代文明实践所")
    r4 = t.add(
        1, "镇新时代文明实践所", "2026年6月3日上午", "学习贯彻党的二十大精神宣讲", "理论宣讲", "约45人", 6, "李四"
    )
    r5 = t.add(2, "泥江口镇新时代文明实践所", on(11), "端午节包粽子邻里活动", "文体活动", 60, 8, "李四")
    total("小计", 105, 14)
    across("二、村（社区）新时代文明实践站")
    r8 = t.add(3, "油草塘村村委会", "2026年6月5日（周五）", "移风易俗倡议宣讲", "移风易俗", "30余人", "4名", "王五")
    r9 = t.add(4, "油草塘村新時代文明實踐站", "6月18日下午", "关爱留守儿童志愿服务", "志愿服务", 25, 9, "王五")
    r10 = t.add(5, "新华村村民委员会", on(9), "农村法律知识讲座", "法治宣传", "若干", 3, "赵六")
    r11 = t.add(6, "江南社区居委会", "2026-06-12 9:00-11:30", "垃圾分类宣传", "科普宣传", 40, 12, "孙七")
    r12 = t.add(7, "油草糖村", on(15), "防汛知识宣传", "科普宣传", 20, 3, "王五")
    total("小计", 115, 27)
    across(NJK_CONTINUED)
    aside.append(t.add(*header))
    across("以下为6月份补报活动")
    r17 = t.add(8, "(江南社区)", "26日", "广场舞展演", "文体活动", "100+", 5, "孙七")
    r18 = t.add(9, "新华村", "2026年6月21日至22日", "健康义诊进村", "卫生健康", "40-50人", 7, "赵六")
    r19 = t.add(10, "和平村", "2026.6.8", "道德讲堂进村", "理论宣讲", 28, 3, "")
    total("合计", 388, 63)
    across("注：活动照片已另行报送")
    across(SIGN_OFF)

    b = Sheet("补报")
    b.add("泥江口镇2026年6月补报活动")
    b.across(1, 1, 11)
    b.add(*LEDGER, None, *LEDGER)
    left = [
        ("NJK-HP", "和平村", on(27), 27, "农技培训", 26),
        ("NJK-YCT", "油草塘村", on(24), 24, "文明家庭评选", 30),
        ("NJK-JN", "江南社区", on(23), 23, "敬老院慰问", 20),
        ("NJK-S", "泥江口镇新时代文明实践所", on(30), 30, "七一主题党日活动", 55),
    ]
    right = [
        ("NJK-JN", "江南社区", on(16), 16, "读书分享会", 18),
        ("NJK-YCT", "油草塘村", "2026-06-31", 0, "环境整治", 35),  # June has 30 days
        ("NJK-S", "泥江口镇新时代文明实践所", on(29), 29, "夏季防溺水宣传", 60),
    ]
    for i, (_, label, when, _, title, people) in enumerate(left):
        row: list[object] = [i + 1, label, when, title, people]
        if i < len(right):
            _, rlabel, rwhen, _, rtitle, rpeople = right[i]
            row += [None, len(left) + i + 1, rlabel, rwhen, rtitle, rpeople]
        b.add(*row)

    k = {
        r4: key("NJK-S", 3, "学习贯彻党的二十大精神宣讲"),
        r5: key("NJK-S", 11, "端午节包粽子邻里活动"),
        r8: key("NJK-YCT", 5, "移风易俗倡议宣讲"),
        r9: key("NJK-YCT", 18, "关爱留守儿童志愿服务"),
        r10: key("NJK-XH", 9, "农村法律知识讲座"),
        r11: key("NJK-JN", 12, "垃圾分类宣传"),
        r17: key("NJK-JN", 26, "广场舞展演"),
        r18: key("NJK-XH", 21, "健康义诊进村"),
        r19: key("NJK-HP", 8, "道德讲堂进村"),
    }
    extra = {key(code, day, title): people for code, _, _, day, title, people in [*left, right[0], right[2]]}
    unknown = ("台账", r12, "unknown_unit")
    return Case(
        "49_全部习惯_泥江口镇.xls",
        "全部习惯同时出现（泥江口镇，.xls）：分节标题、小计、续表、补报说明行、签字行、单位名称各种写法、同名村由标题定、"
        "日期写法、人数写法、多出的联系人列、错字单位；补报页左右两栏，右栏一行日期错",
        data=xls([t, b]),
        stored={*k.values(), *extra},
        refused={unknown, ("补报（右侧表格）", 4, "bad_date")},
        message_has={unknown: "泥江口镇油草塘村"},
        set_aside={("台账", r) for r in aside},
        counts={
            k[r4]: 45,
            k[r5]: 60,
            k[r8]: 30,
            k[r9]: 25,
            k[r10]: None,
            k[r11]: 40,
            k[r17]: 100,
            k[r18]: 40,
            k[r19]: 28,
            **extra,
        },
        volunteers={k[r8]: 4, k[r9]: 9},
        written={
            k[r4]: {"参与人数": "约45人", "活动日期": "2026年6月3日上午"},
            k[r8]: {"参与人数": "30余人", "志愿者人数": "4名"},
            k[r9]: {"活动日期": "6月18日下午"},
            k[r10]: {"参与人数": "若干"},
            k[r17]: {"参与人数": "100+", "活动日期": "26日"},
        },
        plain={k[r5]},
        loose_columns={"参与人数", "志愿者人数"},
        typed_dates={("台账", r) for r in (r4, r8, r9, r11, r17, r18)},
        not_typed={("台账", r5), ("台账", r10)},
        unmapped={"联系人"},
        blocks={"补报"},
    )


def cases() -> list[Case]:
    """Every file that must be read (word_letter, which must not, is apart)."""
    return [
        loose_counts(),
        typed_dates(),
        day_only_without_context(),
        unit_names_hs(),
        unit_names_njk(),
        side_by_side(with_error=False),
        side_by_side(with_error=True),
        hidden_rows(),
        unused_content(),
        sections_and_continued(),
        wenjuanxing(),
        tencent_form(),
        unicode_txt(),
        open_document(),
        word_ledger(),
        word_records(),
        pasted_photos(),
        everything_hs(),
        everything_njk(),
    ]


def build(folder: Path) -> list[Case]:
    """Write every file of the round-two corpus into folder and return the cases."""
    folder.mkdir(parents=True, exist_ok=True)
    built = [*cases(), word_letter()]
    for case in built:
        (folder / case.name).write_bytes(case.data)
    return built


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "office_corpus2")
    built = build(target)
    for case in built:
        print(
            f"{case.name}\t入库 {len(case.stored)}\t拒收 {len(case.refused)}\t跳过 {len(case.set_aside)}\t{case.habit}"
        )
    print(f"{len(built)} files in {target}")
