"""Encodings, refusals (binary, empty, too large) and byte counting of the import reader."""

from __future__ import annotations

import codecs
import io

import pytest

from hub.errors import MalformedBody, PayloadTooLarge
from hub.csvfile.decoding import SAMPLE_SIZE, detect_encoding
from hub.csvfile.reader import open_csv

TEXT = "External Id,Account manager email,Workflow name\r\nC-é1,zoé@example.com,Prélèvement €\r\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16-be"),
        (TEXT.encode("cp1252"), "cp1252"),
    ],
)
def test_every_supported_encoding_reads_the_same_values(read_csv, data, encoding):
    reader = read_csv(data)

    lines = list(reader)

    assert reader.encoding == encoding
    assert reader.headers == ["External Id", "Account manager email", "Workflow name"]
    assert [(ln.external_id, ln.account_manager_emails, ln.workflow_name) for ln in lines] == [
        ("C-é1", ("zoé@example.com",), "Prélèvement €")
    ]


def test_bom_is_not_part_of_the_first_header(read_csv):
    reader = read_csv(codecs.BOM_UTF8 + b"External Id;Workflow\nC1;W\n")

    assert reader.headers[0] == "External Id"
    assert reader.column_map["external_id"] == "External Id"


def test_invalid_utf8_after_the_sample_decodes_as_cp1252(read_csv):
    # The first 64 KiB are plain ASCII, so the file is taken as UTF-8; a cp1252 "é" comes later.
    filler = b"".join(b"C%06d,W\r\n" % i for i in range(SAMPLE_SIZE // 9 + 100))
    data = b"External Id,Workflow\r\n" + filler + "Z1,Relancé €\r\n".encode("cp1252")

    reader = read_csv(data)
    last = list(reader)[-1]

    assert reader.encoding == "utf-8"
    assert (last.external_id, last.workflow_name) == ("Z1", "Relancé €")


def test_character_split_by_the_sample_boundary_is_still_utf8():
    prefix = b"x" * (SAMPLE_SIZE - 1)

    assert detect_encoding(prefix + "é".encode()[:1]).name == "utf-8"
    assert detect_encoding(prefix + b"\xe9", at_eof=True).name == "cp1252"


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml", "xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "xls"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", "PDF"),
    ],
)
def test_known_binary_formats_are_refused_by_name(read_csv, data, kind):
    with pytest.raises(MalformedBody, match="not a CSV file") as caught:
        read_csv(data)

    assert kind in caught.value.message
    assert caught.value.http_status == 400


def test_binary_garbage_is_refused(read_csv):
    garbage = bytes(range(256)) * 64

    with pytest.raises(MalformedBody, match="not a CSV file: it contains binary data"):
        read_csv(garbage)


def test_utf16_without_bom_is_refused_as_binary(read_csv):
    with pytest.raises(MalformedBody, match="not a CSV file"):
        read_csv(TEXT.encode("utf-16-le"))


@pytest.mark.parametrize(
    "data", [b"", codecs.BOM_UTF8, b"\r\n\r\n  \n", codecs.BOM_UTF16_LE, b",,\r\n,,\r\n"]
)
def test_empty_file_is_refused(read_csv, data):
    with pytest.raises(MalformedBody, match="The file is empty"):
        read_csv(data)


def test_header_only_file_has_no_lines(read_csv):
    reader = read_csv("External Id,Workflow name\r\n")

    assert list(reader) == []


def test_seekable_file_over_the_limit_is_refused_before_reading(read_csv):
    stream = io.BytesIO(TEXT.encode() * 100)

    with pytest.raises(PayloadTooLarge, match="larger than the 1 KiB limit") as caught:
        open_csv(stream, max_bytes=1024)

    assert caught.value.http_status == 413
    assert stream.tell() == 0


def test_stream_of_unknown_size_is_stopped_once_the_limit_is_crossed(upload_class, lines_generator):
    upload = upload_class(lines_generator(100_000))
    reader = open_csv(upload, max_bytes=1024 * 1024)

    with pytest.raises(PayloadTooLarge):
        for _ in reader:
            pass

    assert reader.bytes_read <= 1024 * 1024 + SAMPLE_SIZE + 1024


def test_file_exactly_at_the_limit_is_accepted(read_csv):
    data = TEXT.encode("utf-8")

    assert len(list(read_csv(data, max_bytes=len(data)))) == 1


def test_progress_counts_bytes_against_the_size(read_csv):
    data = ("External Id,Workflow\r\n" + "".join(f"C{i},W\r\n" for i in range(50_000))).encode()
    reader = read_csv(data)

    seen = []
    for i, _ in enumerate(reader):
        if i % 10_000 == 0:
            seen.append(reader.bytes_read)

    assert reader.total_bytes == len(data)
    assert seen == sorted(seen) and seen[0] < seen[-1]
    assert reader.bytes_read == len(data)


def test_unseekable_stream_has_no_total(upload_class, lines_generator):
    reader = open_csv(upload_class(lines_generator(10)))

    assert reader.total_bytes is None
    assert len(list(reader)) == 10


def test_callers_stream_is_left_open(read_csv):
    stream = io.BytesIO(TEXT.encode())
    reader = open_csv(stream)
    list(reader)
    del reader

    assert not stream.closed
