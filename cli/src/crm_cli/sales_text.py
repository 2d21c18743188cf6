"""The text of a file of past sales (`crm import-sales`): its encoding, checked through the whole
file before a sale is sent, and its lines read in it.

A file read in the wrong encoding must never be imported: a sale recorded with its names misread
is answered `present` ever after, by the same command with the right `--encoding` too, so the
mojibake would stay. An error is not a reliable sign of it. GBK, as old Chinese systems and Excel
write, fails to read as UTF-8 at most lines with Chinese in them but not at every one: about one
common character in five is two bytes UTF-8 reads as well (食品 as ʳƷ, 鞋帽 as Ьñ). And UTF-8 read as
GB18030 often reads without an error too (微信 as 寰俊). So the whole file is read in its encoding
first, and refused, naming a line, when
- a line cannot be read in it;
- read as UTF-8 (the encoding when none is given, the file not starting with UTF-8's byte order
  mark), it holds no Chinese (no ideograph, CJK punctuation or full-width form) but letters that
  GB18030 reads as Chinese: GBK text, in a file too small to have failed at a line;
- read in another encoding, it is UTF-8 text: it starts with UTF-8's byte order mark, or reads
  as UTF-8 with Chinese in it.
`--encoding utf-8`, given, takes the file as UTF-8 whatever it holds.
"""

import codecs
import re
from collections.abc import Callable, Iterator
from typing import BinaryIO

from crm_cli.sales_file import FileProblem

UTF8 = "utf-8"
# Read a block at a time, each ending at a line's end: in every encoding taken here a newline byte
# is a newline (UTF-16 and UTF-32 are refused), so a block reads as its lines do.
BLOCK_BYTES = 1 << 20
# What Chinese text holds in UTF-8 and GBK text read as UTF-8 all but never does: the CJK ideographs
# (the basic block, extension A, the compatibility ones), CJK punctuation (、。「」) and the
# full-width forms (（），１２). GBK read as UTF-8 is mostly letters of two-byte UTF-8 (ë, Ь, ʳ).
CHINESE = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
# A field of a line (CSV or JSON) holding text that is not ASCII, shown as a sample of its reading.
FOREIGN_FIELD = re.compile(r'[^,;\t|"\r\n]*[^\x00-\x7f][^,;\t|"\r\n]*')
GB_HINT = ("give the file's encoding with --encoding (old systems in China often write gb18030 or gbk), "
           "or save it as UTF-8")


def encoding_of(name: str | None) -> str:
    """The codec's own name for `name` (UTF-8 when None). Lines are split at newline bytes, so an
    encoding that writes a character with a newline byte in it (UTF-16, UTF-32) is refused."""
    if name is None:
        return UTF8
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        raise FileProblem(f"--encoding {name}: no such encoding (e.g. utf-8, gb18030)") from None
    if codec.startswith(("utf-16", "utf-32")):
        raise FileProblem(f"--encoding {name}: not supported; save the file as UTF-8")
    return codec


def check_text(raw: BinaryIO, codec: str, given: bool) -> Iterator[int]:
    """Reads the whole of `raw` in `codec` (`given`: named by --encoding), yielding the bytes read
    after each block; FileProblem names the line of the first problem. Leaves `raw` at its start."""
    # Windows' "Unicode text" is UTF-16 behind its byte order mark: no --encoding reads it (lines
    # are split at newline bytes), so the way out is said at once, not after a first wrong hint.
    start = raw.read(4)
    if start.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileProblem("the file is UTF-16 or UTF-32 text (its byte order mark says so), which is not supported: "
                          "save it as UTF-8 (in Excel: CSV UTF-8)")
    raw.seek(0)
    utf8_marked = raw.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8
    if codec != UTF8 and utf8_marked:
        raise FileProblem(f"the file starts with the byte order mark of UTF-8: it is UTF-8 text, not {codec}; "
                          "leave out --encoding")
    raw.seek(0)
    # Until a line holds Chinese; a file that says it is UTF-8 (Excel's "CSV UTF-8", the reject
    # file) is, even when its only letters outside ASCII are a few GB18030 reads as Chinese (¥).
    could_be_gbk = codec == UTF8 and not given and not utf8_marked
    first_foreign: tuple[int, bytes] | None = None  # the first block holding text that is not ASCII
    could_be_utf8 = codec != UTF8  # until a line does not read as UTF-8
    utf8_chinese: tuple[int, bytes] | None = None  # the first block UTF-8 reads Chinese in
    for first_line, block in _blocks(raw):
        text = _decoded(block, codec, first_line)
        if could_be_gbk:
            could_be_gbk = CHINESE.search(text) is None
            if first_foreign is None and not text.isascii():
                first_foreign = (first_line, block)
        if could_be_utf8:
            try:
                as_utf8 = block.decode(UTF8)
            except UnicodeDecodeError:
                could_be_utf8 = False
            else:
                if utf8_chinese is None and CHINESE.search(as_utf8):
                    utf8_chinese = (first_line, block)
        yield raw.tell()
    raw.seek(0)
    if could_be_gbk and first_foreign is not None:
        number, line, text = _first_line(first_foreign, UTF8, lambda t: not t.isascii())
        as_utf8, as_gb = _foreign(text), _foreign(line.decode("gb18030", "replace"))
        if CHINESE.search(as_gb):
            raise FileProblem(
                f"line {number}: reads as {as_utf8!r} in UTF-8 and as {as_gb!r} in GB18030, and no line holds Chinese "
                "in UTF-8: the file looks like GBK; give --encoding gb18030, or --encoding utf-8 if the UTF-8 "
                "reading is right")
    if could_be_utf8 and utf8_chinese is not None:
        number, line, text = _first_line(utf8_chinese, UTF8, lambda t: CHINESE.search(t) is not None)
        raise FileProblem(
            f"line {number}: reads as {_foreign(text)!r} in UTF-8 and as "
            f"{_foreign(line.decode(codec, 'replace'))!r} in {codec}: the file is UTF-8 text, not {codec}; "
            "leave out --encoding")


def _blocks(raw: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """(number of its first line, block) of the file's blocks of whole lines."""
    first_line = 1
    while block := raw.read(BLOCK_BYTES):
        block += raw.readline()
        yield first_line, block
        first_line += block.count(b"\n")


def _decoded(block: bytes, codec: str, first_line: int) -> str:
    try:
        return block.decode("utf-8-sig" if codec == UTF8 and first_line == 1 else codec)
    except UnicodeDecodeError:
        # Which line: read one by one (rarely, and once: the import stops there).
        for number, line in enumerate(block.split(b"\n"), start=first_line):
            read_line(line, number, codec)
        raise AssertionError("a block that does not read has a line that does not") from None


def read_line(line: bytes, number: int, codec: str) -> str:
    """One line (its number 1-based) as text, or FileProblem naming it and the byte in the way."""
    bom = len(codecs.BOM_UTF8) if codec == UTF8 and number == 1 and line.startswith(codecs.BOM_UTF8) else 0
    try:
        return line[bom:].decode(codec)
    except UnicodeDecodeError as exc:
        at = bom + exc.start
        hint = f"; {GB_HINT}" if codec == UTF8 else ""
        if codec != UTF8 and _is_utf8(line):
            hint = "; the line is UTF-8 text: leave out --encoding"
        raise FileProblem(f"line {number}: not {codec} text (byte 0x{line[at]:02x} at byte {at + 1}){hint}") from None


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode(UTF8)
    except UnicodeDecodeError:
        return False
    return True


def _first_line(found: tuple[int, bytes], codec: str, holds: Callable[[str], bool]) -> tuple[int, bytes, str]:
    """(number, bytes, text in `codec`) of the first line of the block `found` whose text `holds`."""
    first_line, block = found
    lines = ((n, line, read_line(line, n, codec)) for n, line in enumerate(block.split(b"\n"), start=first_line))
    return next(found_line for found_line in lines if holds(found_line[2]))


def _foreign(text: str) -> str:
    """The line's first field holding text that is not ASCII, as a sample of how it reads."""
    found = FOREIGN_FIELD.search(text)
    return (found[0] if found else text).strip()[:30]


class Counting:
    """The lines of a binary file as text in `encoding` (a UTF-8 byte order mark skipped),
    counting the bytes read (for the progress bar). The file was checked (`check_text`); a line
    that does not read is one written to it since, and stops the import there."""

    def __init__(self, raw: BinaryIO, encoding: str = UTF8) -> None:
        self.raw, self.read, self.encoding = raw, 0, encoding

    def __iter__(self) -> Iterator[str]:
        for number, chunk in enumerate(self.raw, start=1):
            self.read += len(chunk)
            yield read_line(chunk, number, self.encoding)
