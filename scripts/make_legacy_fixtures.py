#!/usr/bin/env python3
"""Writes the legacy-format fixture forms in fixtures/forms/.

rust_xlsxwriter (which writes the .xlsx fixtures) cannot write the binary
Excel 97-2003 format (.xls, BIFF8) or OpenDocument (.ods), but departments send
both: old Excel installs, WPS and LibreOffice. This script writes a staff
roster and training records in those formats, laid out like the real forms
(title block, a one- or two-row header with merged cells, column-number row,
section rows, a "Tổng cộng" totals row, a signature block below the table),
with deliberate bad rows.
`tests/it/formats.rs` ingests each file and asserts the exact rows, rejects and
skips; the expected values there follow the content below, so change both
together.

The output is committed, so neither CI nor a developer needs this script or
its packages. To remake the files:

    python3 -m pip install xlwt==1.3.0 odfpy==1.4.1
    python3 scripts/make_legacy_fixtures.py          # writes fixtures/forms/
    cargo test --test it formats::

Files written (a few KB each):

* danh-sach-can-bo.xls       staff roster, BIFF8 (xlwt), birth dates as date
                             cells (1900 date system), one ID as a number cell
* danh-sach-can-bo-mac.xls   the same roster in the 1904 date system (old Excel
                             for Mac)
* danh-sach-can-bo.ods       the same roster as OpenDocument: date cells
                             (office:date-value), merged title cells, one name
                             in Unicode NFD, LibreOffice-style repeated empty
                             rows and columns after the table
* dao-tao-boi-duong.xls      training record, BIFF8: dates as text
                             ("31/12/1985", "05-03-1990"), money as text
                             ("1.500.000") and as numbers, lessons as text and
                             numbers, and a second sheet ("Hướng dẫn") that is
                             not a form
* dao-tao-boi-duong.ods      the same training record as OpenDocument
* dao-tao-tieu-de-gop.xls    a training record under a two-row header with
                             merged cells: "Hình thức" over x-mark columns
                             "Tập trung" / "Trực tuyến", "Thời gian" over
                             "Từ ngày" / "Đến ngày", date cells
* dao-tao-tieu-de-gop.ods    the same as OpenDocument (merges are
                             table:number-columns/rows-spanned + covered cells)

None of the names carries a year: the period (2024) must come from the title
block ("NĂM 2024"), not from the signature date below the table
("ngày 15 tháng 01 năm 2025").

The .xls files are byte-for-byte reproducible; the .ods files too (the zip
entries get a fixed timestamp), given the same odfpy version.
"""

import datetime
import io
import os
import sys
import unicodedata
import zipfile

import xlwt
from odf.number import DateStyle, Day, Month, Text as NumberText, Year
from odf.opendocument import OpenDocumentSpreadsheet
from odf.style import Style, TableCellProperties, TableColumnProperties, TextProperties
from odf.table import CoveredTableCell, Table, TableCell, TableColumn, TableRow
from odf.text import P

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "forms")


class D:
    """A date written as a real date cell."""

    def __init__(self, year, month, day):
        self.date = datetime.date(year, month, day)


class N:
    """A number written as a number cell; `grouped` shows it as "12.000.000"."""

    def __init__(self, value, grouped=False):
        self.value = value
        self.grouped = grouped


class Merge:
    """Text in a cell merged across `span` columns and `rows` rows; the cells
    it covers are written as None in the rows (to its right and below)."""

    def __init__(self, text, span, rows=1):
        self.text = text
        self.span = span
        self.rows = rows


# A sheet is a list of rows (row 1 first); a row is a list of cells (column A
# first): None (blank), str (text), D (date cell), N (number cell), Merge.


def title_block(title):
    return [
        [Merge("UBND TỈNH ĐIỆN BIÊN", 4), None, None, None, None,
         Merge("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 7)],
        [Merge("SỞ NỘI VỤ", 4), None, None, None, None,
         Merge("Độc lập - Tự do - Hạnh phúc", 7)],
        [],
        [Merge(title, 12)],
        [Merge("NĂM 2024", 12)],
        [],
    ]


def signature_block(date_line, right_column):
    pad = [None] * right_column
    return [
        [],
        pad + [date_line],
        [None, "Người lập biểu"] + [None] * (right_column - 2) + ["Thủ trưởng đơn vị"],
        [None, "(Ký, ghi rõ họ tên)"] + [None] * (right_column - 2) + ["(Ký tên, đóng dấu)"],
        [],
        [],
        [None, "Nguyễn Thị Hoa"] + [None] * (right_column - 2) + ["Đỗ Văn Khánh"],
    ]


def staff_sheet(nfd_name=False):
    """The roster. Rows 10, 11, 13 and 14 are valid; row 15 has an impossible
    birth date and row 16 an unknown qualification."""
    name2 = "Trần Thị Bình"
    female = "Nữ"
    if nfd_name:
        name2 = unicodedata.normalize("NFD", name2)
        female = unicodedata.normalize("NFD", female)
    unit1 = "Văn phòng Sở"
    unit2 = "Phòng Công chức, viên chức"
    return title_block("DANH SÁCH CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC") + [
        # Row 7: the header.
        ["STT", "Họ và tên", "Mã định danh", "Ngày sinh", "Giới tính", "Đơn vị", "Chức vụ",
         "Trình độ\nchuyên môn", "Lý luận chính trị", "Quản lý nhà nước", "Chuyển đổi số",
         "An toàn thông tin"],
        # Row 8: column numbers.
        ["(%d)" % i for i in range(1, 13)],
        # Row 9: a section.
        ["I", unit1],
        [N(1), "Nguyễn Văn An", "011085000001", D(1985, 12, 31), "Nam", unit1,
         "Chánh Văn phòng", "Thạc sĩ", "Trung cấp", "Chuyên viên chính", "Kiêm nhiệm"],
        [N(2), name2, "011190000002", D(1990, 3, 5), female, unit1, "Chuyên viên",
         "Đại học", None, "Chuyên viên", "Chuyên trách", "Kiêm nhiệm"],
        ["II", unit2],
        [N(3), "Lê Văn Cường", "011088000003", D(1988, 2, 29), "Nam", unit2, "Trưởng phòng",
         "Tiến sĩ", "Cao cấp", "Chuyên viên cao cấp"],
        # The ID typed as a number (its leading zero lost, as Excel does).
        [N(4), "Phạm Thị Dung", N(11092000004), D(1992, 7, 15), "Nữ", unit2,
         "Phó Trưởng phòng", "Đại học", "Sơ cấp", "Chuyên viên"],
        # Row 15: 31 February does not exist, so it can only be text.
        [N(5), "Hoàng Văn Em", "011085000005", "31/02/1985", "Nam", unit2, "Chuyên viên",
         "Cao đẳng"],
        # Row 16: "Kỹ sư" (engineer) is a title, not a qualification level.
        [N(6), "Vũ Thị Phương", "011095000006", D(1995, 11, 20), "Nữ", unit2, "Chuyên viên",
         "Kỹ sư"],
        # Row 17: totals.
        [None, "Tổng cộng", N(6)],
    ] + signature_block("Điện Biên, ngày 15 tháng 01 năm 2025", 9)


def training_sheet():
    """The training record. Rows 9-11 are valid; row 12 ends before it
    starts; row 13 has no course name and a badly grouped amount."""
    return title_block("DANH SÁCH KẾT QUẢ ĐÀO TẠO, BỒI DƯỠNG CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC") + [
        # Row 7: the header.
        ["STT", "Họ và tên", "Mã định danh", "Ngày sinh", "Tên khóa học", "Nội dung bồi dưỡng",
         "Hình thức", "Trong nước/Nước ngoài", "Từ ngày", "Đến ngày", "Số tiết", "Kết quả",
         "Chứng chỉ", "Kinh phí\n(đồng)"],
        # Row 8: column numbers as number cells.
        [N(i) for i in range(1, 15)],
        [N(1), "Nguyễn Văn An", "011085000001", "31/12/1985",
         "Bồi dưỡng kiến thức quản lý nhà nước chương trình chuyên viên chính",
         "Quản lý nhà nước", "Tập trung", "Trong nước", "04/03/2024", "29/03/2024", N(120),
         "Đạt", "x", "1.500.000"],
        [N(2), "Trần Thị Bình", "011190000002", "05-03-1990",
         "Chuyển đổi số trong cơ quan nhà nước", "Chuyển đổi số", "Trực tuyến", None,
         "10/06/2024", "12/06/2024", "24", "Hoàn thành", "Có"],
        [N(3), "Lê Văn Cường", None, "29/02/1988", "Tiếng Anh trình độ B1", "Ngoại ngữ",
         "Kết hợp", "Nước ngoài", "01/07/2024", "30/09/2024", N(200), "Đang học", None,
         N(12000000, grouped=True)],
        # Row 12: "Đến ngày" before "Từ ngày".
        [N(4), "Phạm Thị Dung", N(11092000004), "15/07/1992", "Kỹ năng lãnh đạo cấp phòng",
         "Kỹ năng lãnh đạo, quản lý", "Tập trung", None, "20/05/2024", "10/05/2024", N(40),
         "Đạt", "x", "2.000.000"],
        # Row 13: no course name, and "1.50.000" is not a grouped whole number.
        [N(5), "Hoàng Văn Em", "011085000005", None, None, "Tin học", "Trực tuyến", None,
         "03/09/2024", "05/09/2024", N(16), "Đạt", None, "1.50.000"],
        # Row 14: totals as the department summed them.
        [None, "Tổng cộng", None, None, None, None, None, None, None, None, N(400), None,
         None, "15.650.000"],
    ] + signature_block("Điện Biên, ngày 15 tháng 01 năm 2025", 11)


def grouped_training_sheet():
    """A training record under a two-row header with merged cells: single
    headers merged down over two rows, "Hình thức" over the x-mark columns
    "Tập trung" / "Trực tuyến", "Thời gian" over "Từ ngày" / "Đến ngày".
    Rows 10 and 11 are valid; row 12 is marked both in person and online."""
    v = lambda text: Merge(text, 1, rows=2)  # noqa: E731
    return title_block("DANH SÁCH KẾT QUẢ ĐÀO TẠO, BỒI DƯỠNG CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC") + [
        # Rows 7 and 8: the header.
        [v("STT"), v("Họ và tên"), v("Mã định danh"), v("Tên khóa học"),
         v("Nội dung bồi dưỡng"), Merge("Hình thức", 2), None, Merge("Thời gian", 2), None,
         v("Số tiết"), v("Kết quả")],
        [None, None, None, None, None, "Tập trung", "Trực tuyến", "Từ ngày", "Đến ngày"],
        # Row 9: column numbers.
        ["(%d)" % i for i in range(1, 12)],
        [N(1), "Nguyễn Văn An", "011085000001",
         "Bồi dưỡng kiến thức quản lý nhà nước chương trình chuyên viên chính",
         "Quản lý nhà nước", "x", None, D(2024, 3, 4), D(2024, 3, 29), N(120), "Đạt"],
        [N(2), "Trần Thị Bình", "011190000002", "Chuyển đổi số trong cơ quan nhà nước",
         "Chuyển đổi số", None, "x", D(2024, 6, 10), D(2024, 6, 12), N(24), "Hoàn thành"],
        # Row 12: two marks in one group.
        [N(3), "Lê Văn Cường", None, "Tiếng Anh trình độ B1", "Ngoại ngữ", "x", "x",
         D(2024, 7, 1), D(2024, 9, 30), N(200), "Đang học"],
        # Row 13: totals.
        [None, "Tổng cộng", None, None, None, None, None, None, None, N(344)],
    ] + signature_block("Điện Biên, ngày 15 tháng 01 năm 2025", 8)


def instructions_sheet():
    return [
        ["HƯỚNG DẪN ĐIỀN BIỂU"],
        ["1. Ngày tháng ghi theo dạng ngày/tháng/năm, ví dụ 31/12/2024."],
        ["2. Kinh phí ghi bằng số, đơn vị đồng."],
    ]


# ---------------------------------------------------------------- .xls (BIFF8)

XLS_TITLE = xlwt.easyxf("font: bold on; align: horiz center")
XLS_HEADER = xlwt.easyxf(
    "font: bold on; align: horiz center, vert center, wrap on; "
    "borders: left thin, right thin, top thin, bottom thin"
)
XLS_TEXT = xlwt.easyxf("borders: left thin, right thin, top thin, bottom thin")
XLS_DATE = xlwt.easyxf(
    "borders: left thin, right thin, top thin, bottom thin", num_format_str="dd/mm/yyyy"
)
XLS_NUMBER = xlwt.easyxf("borders: left thin, right thin, top thin, bottom thin")
XLS_GROUPED = xlwt.easyxf(
    "borders: left thin, right thin, top thin, bottom thin", num_format_str="#,##0"
)
XLS_PLAIN = xlwt.easyxf("")


def write_xls_sheet(book, name, rows, header_row, header_height):
    sheet = book.add_sheet(name)
    header = range(header_row - 1, header_row - 1 + header_height) if header_row else range(0)
    for r, row in enumerate(rows):
        in_table = header_row is not None and r >= header_row - 1
        for c, cell in enumerate(row):
            if cell is None:
                continue
            if isinstance(cell, Merge):
                style = XLS_HEADER if r in header else XLS_TITLE
                sheet.write_merge(r, r + cell.rows - 1, c, c + cell.span - 1, cell.text, style)
            elif isinstance(cell, D):
                sheet.write(r, c, cell.date, XLS_DATE)
            elif isinstance(cell, N):
                style = XLS_GROUPED if cell.grouped else XLS_NUMBER
                sheet.write(r, c, cell.value, style if in_table else XLS_PLAIN)
            elif r in header:
                sheet.write(r, c, cell, XLS_HEADER)
            else:
                sheet.write(r, c, cell, XLS_TEXT if in_table else XLS_PLAIN)
    sheet.col(1).width = 256 * 22
    return sheet


def write_xls(path, sheets, dates_1904=False):
    book = xlwt.Workbook(encoding="utf-8")
    book.dates_1904 = dates_1904
    for name, rows, header_row, header_height in sheets:
        write_xls_sheet(book, name, rows, header_row, header_height)
    book.save(path)


# ----------------------------------------------------------------------- .ods

# LibreOffice writes the unused rest of a sheet as repeated empty rows and
# columns; readers must not expand them into a million cells.
ODS_COLUMNS = 1024
ODS_ROWS = 1048576


def write_ods(path, sheets):
    doc = OpenDocumentSpreadsheet()
    dmy = DateStyle(name="N37")
    dmy.addElement(Day(style="long"))
    dmy.addElement(NumberText(text="/"))
    dmy.addElement(Month(style="long"))
    dmy.addElement(NumberText(text="/"))
    dmy.addElement(Year(style="long"))
    doc.automaticstyles.addElement(dmy)
    date_style = Style(name="ce1", family="table-cell", datastylename="N37")
    doc.automaticstyles.addElement(date_style)
    header_style = Style(name="ce2", family="table-cell")
    header_style.addElement(TableCellProperties(wrapoption="wrap"))
    header_style.addElement(TextProperties(fontweight="bold"))
    doc.automaticstyles.addElement(header_style)
    column_style = Style(name="co1", family="table-column")
    column_style.addElement(TableColumnProperties(columnwidth="2.5cm"))
    doc.automaticstyles.addElement(column_style)

    for name, rows, header_row, header_height in sheets:
        table = Table(name=name)
        table.addElement(TableColumn(stylename=column_style, numbercolumnsrepeated=ODS_COLUMNS))
        header = range(header_row - 1, header_row - 1 + header_height) if header_row else range(0)
        covered = set()
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                if isinstance(cell, Merge):
                    covered.update(
                        (r + dr, c + dc)
                        for dr in range(cell.rows)
                        for dc in range(cell.span)
                        if (dr, dc) != (0, 0)
                    )
        for r, row in enumerate(rows):
            tr = TableRow()
            width = max([len(row)] + [c + 1 for (rr, c) in covered if rr == r])
            for c in range(width):
                cell = row[c] if c < len(row) else None
                if (r, c) in covered:
                    tr.addElement(CoveredTableCell())
                    continue
                if cell is None:
                    tr.addElement(TableCell())
                    continue
                if isinstance(cell, Merge):
                    attrs = {"valuetype": "string", "numbercolumnsspanned": cell.span}
                    if cell.rows > 1:
                        attrs["numberrowsspanned"] = cell.rows
                    if r in header:
                        attrs["stylename"] = header_style
                    tc = TableCell(**attrs)
                    tc.addElement(P(text=cell.text))
                elif isinstance(cell, D):
                    tc = TableCell(
                        valuetype="date",
                        datevalue=cell.date.isoformat(),
                        stylename=date_style,
                    )
                    tc.addElement(P(text=cell.date.strftime("%d/%m/%Y")))
                elif isinstance(cell, N):
                    tc = TableCell(valuetype="float", value=str(cell.value))
                    shown = "{:,}".format(cell.value).replace(",", ".") if cell.grouped else str(cell.value)
                    tc.addElement(P(text=shown))
                else:
                    attrs = {"valuetype": "string"}
                    if r in header:
                        attrs["stylename"] = header_style
                    tc = TableCell(**attrs)
                    # A line break inside a cell is a second paragraph.
                    for line in cell.split("\n"):
                        tc.addElement(P(text=line))
                tr.addElement(tc)
            tr.addElement(TableCell(numbercolumnsrepeated=ODS_COLUMNS - width))
            table.addElement(tr)
        rest = TableRow(numberrowsrepeated=ODS_ROWS - len(rows))
        rest.addElement(TableCell(numbercolumnsrepeated=ODS_COLUMNS))
        table.addElement(rest)
        doc.spreadsheet.addElement(table)

    buffer = io.BytesIO()
    doc.write(buffer)
    # Rewrite the zip with a fixed timestamp so the bytes are reproducible;
    # the order (mimetype first) and compression of the entries are kept.
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, zipfile.ZipFile(
        path, "w"
    ) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2025, 1, 15, 8, 0, 0))
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            target.writestr(fixed, source.read(info.filename))


def main():
    os.makedirs(OUT, exist_ok=True)
    staff = [("Danh sách", staff_sheet(), 7, 1)]
    training = [
        ("Đào tạo 2024", training_sheet(), 7, 1),
        ("Hướng dẫn", instructions_sheet(), None, 0),
    ]
    grouped = [("Đào tạo", grouped_training_sheet(), 7, 2)]
    outputs = {
        "danh-sach-can-bo.xls": lambda p: write_xls(p, staff),
        "danh-sach-can-bo-mac.xls": lambda p: write_xls(p, staff, dates_1904=True),
        "danh-sach-can-bo.ods": lambda p: write_ods(
            p, [("Danh sách", staff_sheet(nfd_name=True), 7, 1)]
        ),
        "dao-tao-boi-duong.xls": lambda p: write_xls(p, training),
        "dao-tao-boi-duong.ods": lambda p: write_ods(p, training),
        "dao-tao-tieu-de-gop.xls": lambda p: write_xls(p, grouped),
        "dao-tao-tieu-de-gop.ods": lambda p: write_ods(p, grouped),
    }
    for name, write in outputs.items():
        path = os.path.join(OUT, name)
        write(path)
        print(f"{os.path.relpath(path)}: {os.path.getsize(path)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
