"""The 通报 set as a Word document (python-docx), ready to edit in WPS or Word."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from monitor.core.export import safe_text
from monitor.reports import charts
from monitor.reports.bulletin import NUMBERS, Bulletin

BODY_FONT, HEADING_FONT, TITLE_FONT = "仿宋_GB2312", "黑体", "方正小标宋简体"
NO_CHARTS = "（本机未能生成图表图片，本节仅列表格。）"


def _font(run, name: str, size: float, bold: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Set a run's Latin and East Asian font: WPS and Word read the Chinese one from eastAsia."""
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)


def _paragraph(
    document,
    text: str,
    *,
    font: str = BODY_FONT,
    size: float = 16,
    bold: bool = False,  # type: ignore[no-untyped-def]
    align=None,
    indent: bool = True,
):
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.line_spacing = Pt(28)
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    if align is not None:
        paragraph.alignment = align
    _font(paragraph.add_run(safe_text(text)), font, size, bold)
    return paragraph


def _page_number(section) -> None:  # type: ignore[no-untyped-def]
    """— 1 — centred in the footer: a PAGE field, as official documents number their pages."""
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(paragraph.add_run("— "), BODY_FONT, 14)
    run = paragraph.add_run()
    _font(run, BODY_FONT, 14)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._element.append(element)
    _font(paragraph.add_run(" —"), BODY_FONT, 14)


def _table(document, frame) -> None:  # type: ignore[no-untyped-def]
    table = document.add_table(rows=1, cols=len(frame.columns))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, heading in zip(table.rows[0].cells, frame.columns, strict=True):
        cell.text = ""
        _font(cell.paragraphs[0].add_run(safe_text(str(heading))), HEADING_FONT, 11)
    for values in frame.itertuples(index=False):
        row = table.add_row()
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = ""
            _font(cell.paragraphs[0].add_run(safe_text(str(value))), BODY_FONT, 11)
    for row in table.rows:  # a row is never split across two pages
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    first = table.rows[0]._tr.get_or_add_trPr()
    first.append(OxmlElement("w:tblHeader"))  # the heading row again on each page


def _chart_pictures(bulletin: Bulletin) -> list[bytes] | None:
    """The overview's two charts as PNG (plotly's static export); None where no browser can draw them."""
    try:
        import plotly.io as pio

        figures = [charts.monthly(bulletin.by_month)]
        if not bulletin.by_town.empty:
            figures.append(charts.by_town(bulletin.by_town))
        return [pio.to_image(f, format="png", width=900, height=420, scale=2) for f in figures]
    except Exception:  # no Chrome or Chromium for the export: the document says so and keeps the tables
        return None


def bulletin_docx(bulletin: Bulletin, *, with_charts: bool = True) -> bytes:
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)  # A4
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    _page_number(section)

    _paragraph(document, bulletin.title, font=TITLE_FONT, size=22, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _paragraph(document, "各乡镇（街道）：", indent=False)
    headings = ["总体情况", "各乡镇情况", "存在问题", "下步要求"]
    _paragraph(document, f"{NUMBERS[0]}、{headings[0]}", font=HEADING_FONT)
    for text in bulletin.overall:
        _paragraph(document, text)

    _paragraph(document, f"{NUMBERS[1]}、{headings[1]}", font=HEADING_FONT)
    if bulletin.towns.empty:
        _paragraph(document, "所选范围内没有乡镇（街道）数据。")
    else:
        _paragraph(document, "各乡镇（街道）按完成率从高到低排列如下：")
        _table(document, bulletin.towns)
    if with_charts and not bulletin.no_data:  # no activity recorded: nothing to draw
        pictures = _chart_pictures(bulletin)
        if pictures is None:
            _paragraph(document, NO_CHARTS)
        else:
            for picture in pictures:
                document.add_picture(io.BytesIO(picture), width=Cm(15.5))
                document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER

    _paragraph(document, f"{NUMBERS[2]}、{headings[2]}", font=HEADING_FONT)
    for line in bulletin.problems():
        _paragraph(document, line)

    _paragraph(document, f"{NUMBERS[3]}、{headings[3]}", font=HEADING_FONT)
    _paragraph(document, bulletin.requirements)
    _paragraph(document, bulletin.issuer, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    _paragraph(document, bulletin.issued_on, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
