"""Binary upload → streamed text: size limit, refusal of non-CSV files, encoding detection.

Only a prefix sample (SAMPLE_SIZE bytes) is ever held in memory; the rest flows through an
io.TextIOWrapper in small chunks.

Encoding rules, decided on the sample:
- a UTF-8 BOM → UTF-8 ("utf-8-sig"); a UTF-16 BOM → UTF-16 LE/BE;
- otherwise UTF-8 when the sample is valid UTF-8, else Windows-1252.
A file whose sample is valid UTF-8 but which holds invalid bytes further on (a hand-edited
export, say) does not fail mid-stream: each invalid byte sequence is decoded as Windows-1252
by the "hub-cp1252-fallback" error handler, so "é" typed in cp1252 still reads as "é".
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from typing import BinaryIO

from hub.errors import MalformedBody, PayloadTooLarge

SAMPLE_SIZE = 64 * 1024
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
FALLBACK_ERRORS = "hub-cp1252-fallback"
# More C0 control characters than this share of the sample means binary, not text.
_MAX_CONTROL_SHARE = 0.01
_CONTROL_CHARS = dict.fromkeys(c for c in range(32) if chr(c) not in "\t\n\r")

# Files admins upload by mistake, recognised by their first bytes.
_MAGIC_NUMBERS: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another ZIP archive"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls)"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "a program"),
)
_SAVE_AS_CSV = "save it as CSV (UTF-8) and upload that file"


@dataclass(frozen=True)
class Encoding:
    name: str  # what we report: utf-8, utf-8-sig, utf-16-le, utf-16-be, cp1252
    codec: str  # what we decode with ("utf-16" reads the BOM and skips it)
    errors: str


@dataclass(frozen=True)
class DecodedStream:
    text: io.TextIOWrapper  # newline="" so csv sees quoted line breaks untranslated
    encoding: Encoding
    sample: str  # the decoded prefix, for sniffing the delimiter
    meter: MeteredStream


def open_text(stream: BinaryIO, max_bytes: int | None = DEFAULT_MAX_BYTES) -> DecodedStream:
    """Wrap a binary upload as text; raise the hub error that tells the admin what is wrong."""
    meter = MeteredStream(stream, max_bytes)
    sample = meter.read_sample(SAMPLE_SIZE)
    refuse_known_binary(sample)
    at_eof = len(sample) < SAMPLE_SIZE
    encoding = detect_encoding(sample, at_eof)
    _ensure_fallback_handler()
    decoder = codecs.getincrementaldecoder(encoding.codec)(encoding.errors)
    sample_text = decoder.decode(sample, final=at_eof)
    refuse_binary_text(sample_text)
    if at_eof and not sample_text.strip():
        raise MalformedBody("The file is empty", details={"reason": "empty_file"})
    buffered = io.BufferedReader(meter, buffer_size=SAMPLE_SIZE)
    text = io.TextIOWrapper(buffered, encoding=encoding.codec, errors=encoding.errors, newline="")
    return DecodedStream(text=text, encoding=encoding, sample=sample_text, meter=meter)


def detect_encoding(sample: bytes, at_eof: bool = False) -> Encoding:
    """Pick the encoding from the byte-order mark, else from whether the sample is UTF-8."""
    if sample.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8-sig", "utf-8-sig", FALLBACK_ERRORS)
    if sample.startswith(codecs.BOM_UTF16_LE):
        return Encoding("utf-16-le", "utf-16", "replace")
    if sample.startswith(codecs.BOM_UTF16_BE):
        return Encoding("utf-16-be", "utf-16", "replace")
    try:
        # Incremental, so a character cut in two by the end of the sample is not an error.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=at_eof)
    except UnicodeDecodeError:
        return Encoding("cp1252", "cp1252", "replace")
    return Encoding("utf-8", "utf-8", FALLBACK_ERRORS)


def refuse_known_binary(sample: bytes) -> None:
    """Refuse spreadsheets, archives and images before trying to decode them."""
    for magic, kind in _MAGIC_NUMBERS:
        if sample.startswith(magic):
            raise MalformedBody(
                f"This is not a CSV file: it looks like {kind}; {_SAVE_AS_CSV}",
                details={"reason": "not_csv", "detected": kind},
            )


def refuse_binary_text(sample_text: str) -> None:
    """Refuse text with NUL bytes or many control characters: binary data, or UTF-16 sans BOM."""
    controls = len(sample_text) - len(sample_text.translate(_CONTROL_CHARS))
    if "\x00" in sample_text or controls > _MAX_CONTROL_SHARE * len(sample_text):
        raise MalformedBody(
            f"This is not a CSV file: it contains binary data; {_SAVE_AS_CSV}",
            details={"reason": "not_csv", "detected": "binary data"},
        )


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    undecodable = error.object[error.start : error.end]
    return bytes(undecodable).decode("cp1252", errors="replace"), error.end


def _ensure_fallback_handler() -> None:
    # Registered on first use rather than at import time; registering twice is harmless.
    try:
        codecs.lookup_error(FALLBACK_ERRORS)
    except LookupError:
        codecs.register_error(FALLBACK_ERRORS, _cp1252_fallback)


class MeteredStream(io.RawIOBase):
    """Reads the caller's binary stream, counting bytes and enforcing the size limit.

    The sample read up front is replayed first, so the caller's stream need not be seekable.
    Closing it leaves the caller's stream open: the caller owns that.
    """

    def __init__(self, source: BinaryIO, max_bytes: int | None) -> None:
        super().__init__()
        self._source = source
        self._max_bytes = max_bytes
        self._replay = memoryview(b"")
        self.bytes_read = 0
        self.total_bytes = _remaining_size(source)
        if max_bytes is not None and self.total_bytes is not None:
            self._check_size(self.total_bytes)

    def readable(self) -> bool:
        return True

    def read_sample(self, size: int) -> bytes:
        """Read up to `size` bytes (fewer only at end of file) and queue them for replay."""
        parts, got = [], 0
        while got < size:
            chunk = self._pull(size - got)
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        sample = b"".join(parts)
        self._replay = memoryview(sample)
        return sample

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._replay:
            n = min(len(buffer), len(self._replay))
            buffer[:n] = self._replay[:n]
            self._replay = self._replay[n:]
            return n
        chunk = self._pull(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def _pull(self, size: int) -> bytes:
        chunk = self._source.read(size) or b""
        self.bytes_read += len(chunk)
        self._check_size(self.bytes_read)
        return chunk

    def _check_size(self, size: int) -> None:
        if self._max_bytes is not None and size > self._max_bytes:
            raise PayloadTooLarge(
                f"The file is larger than the {_human_size(self._max_bytes)} limit",
                details={"max_bytes": self._max_bytes},
            )


def _remaining_size(stream: BinaryIO) -> int | None:
    """Bytes left in a seekable stream (for progress and an early size check), else None."""
    try:
        if not stream.seekable():
            return None
        position = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(position)
    except (AttributeError, OSError, ValueError):
        return None
    return end - position


def _human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MiB"
    return f"{size / 1024:g} KiB" if size >= 1024 else f"{size} bytes"
