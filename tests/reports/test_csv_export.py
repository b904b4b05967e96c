"""The CSV download: a BOM, one line per row, and cells a spreadsheet would run as formulas made plain text."""

import csv
import io

import pytest

from crm.reports.csv_export import csv_lines, csv_response, safe_cell


@pytest.mark.parametrize("value,shown", [("=1+1", "'=1+1"), ("+380", "'+380"), ("-5", "'-5"), ("@SUM(A1)", "'@SUM(A1)"),
                                         ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), ("a=b", "a=b"),
                                         (12, "12"), (None, "")])
def test_formula_cells_get_a_leading_apostrophe(value, shown):
    assert safe_cell(value) == shown


def test_the_lines_start_with_a_bom_and_parse_back():
    lines = list(csv_lines(["Figure", "Value"], iter([["Members, all", "3"], ["Change", "-1"]])))
    assert lines[0] == "\ufeff"
    assert list(csv.reader(io.StringIO("".join(lines[1:])))) == [["Figure", "Value"], ["Members, all", "3"],
                                                                ["Change", "'-1"]]


def test_the_response_streams_utf8_as_an_attachment(app):
    with app.test_request_context():
        response = csv_response("r.csv", ["Назва"], iter([["Кава"]]))
        assert response.is_streamed
        assert response.headers["Content-Disposition"] == 'attachment; filename="r.csv"'
        body = b"".join(response.response)
    assert body.decode("utf-8") == "\ufeffНазва\r\nКава\r\n"
