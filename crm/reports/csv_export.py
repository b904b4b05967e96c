"""A table as a streamed CSV download: UTF-8 with a BOM (spreadsheets then read the text right), and cells that
a spreadsheet would run as a formula neutralised with a leading apostrophe."""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from flask import Response, stream_with_context

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(DANGEROUS) else text


def csv_lines(header: Sequence, rows: Iterable[Sequence]) -> Iterator[str]:
    """The BOM, then one CSV line per row (the header first)."""
    yield "\ufeff"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in _chain(header, rows):
        writer.writerow([safe_cell(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _chain(header, rows):
    yield header
    yield from rows


def csv_response(filename: str, header: Sequence, rows: Iterable[Sequence]) -> Response:
    body = (line.encode("utf-8") for line in csv_lines(header, rows))
    return Response(stream_with_context(body), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})
