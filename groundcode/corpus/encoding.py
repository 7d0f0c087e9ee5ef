"""Decoding imported bytes: UTF-8/16 (with or without BOM), GB18030/GBK and Big5.

Order of trust, most certain first:

1. a BOM (UTF-8, UTF-16, UTF-32) says what the file is;
2. a clear NUL pattern (every other byte zero) is BOM-less UTF-16;
3. strict UTF-8: real GBK or Big5 text almost never decodes as UTF-8;
4. text that is valid UTF-8 with non-ASCII characters up to a broken stretch
   is refused, naming the byte and line: mixed encodings inside one file
   would silently corrupt the text every coding points into, so we never guess;
5. otherwise GB18030 (standing for GBK and GB2312, its subsets) or Big5: a
   candidate must decode strictly; among those that do we prefer the one whose
   characters are the common ones of its own character set, and
   charset-normalizer's verdict (restricted to these two families) decides
   near-ties.

Binary data (NUL characters outside UTF-16, or many control characters) is
refused with a typed error (``BadLine``) naming the file.
"""

from __future__ import annotations

import codecs

from groundcode.domain.errors import BadLine

BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
CHINESE_CODECS = ("gb18030", "big5")
MAX_CONTROL_RATIO = 0.05
ALLOWED_CONTROLS = frozenset("\n\r\t\f\v\x1b")
_LEAD_BYTES = bytes(range(0xC0, 0x100))


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _utf16_by_nuls(data: bytes) -> str | None:
    """BOM-less UTF-16 is recognisable when much of the text is ASCII: one byte of each pair is 0."""
    sample = data[:8192]
    if len(sample) < 4 or len(sample) % 2:
        return None
    half = len(sample) / 2
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    if odd > 0.3 * half and even < 0.02 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.02 * half:
        return "utf-16-be"
    return None


def _check_text(text: str, name: str) -> str:
    """Refuse decoded text that is really binary: NUL characters or many control characters."""
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise BadLine(name, line, "nul_bytes")
    sample = text[:200_000]
    if sample:
        bad = sum(
            1 for ch in sample if (ch < " " and ch not in ALLOWED_CONTROLS) or "\x7f" <= ch < "\xa0"
        )
        if bad / len(sample) > MAX_CONTROL_RATIO:
            raise BadLine(name, 0, "binary")
    return text


def _common_share(text: str, codec: str) -> float:
    """Share of Han characters that are the common ones of the codec's own character set.

    Correctly decoded Chinese is dominated by common characters (GB2312 level 1
    for GB18030, the Big5 frequently-used block for Big5); bytes decoded with
    the wrong table land on scattered, rare characters.
    """
    han = [ch for ch in text[:20_000] if "\u4e00" <= ch <= "\u9fff"]
    if not han:
        return 0.0
    common = 0
    for ch in han:
        try:
            if codec == "gb18030":
                lead = ch.encode("gb2312")[0]
                common += 0xB0 <= lead <= 0xD7
            else:
                lead = ch.encode("big5")[0]
                common += 0xA4 <= lead <= 0xC6
        except UnicodeEncodeError:
            continue
    return common / len(han)


def _normalizer_guess(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000], cp_isolation=list(CHINESE_CODECS)).best()
    if best is None:
        return None
    enc = best.encoding.lower().replace("-", "_")
    if enc in ("gb18030", "gbk", "gb2312", "hz"):
        return "gb18030"
    if enc in ("big5", "big5hkscs", "cp950"):
        return "big5"
    return None


def _han_count(text: str) -> int:
    return sum(1 for ch in text[:20_000] if "\u4e00" <= ch <= "\u9fff")


def _decode_chinese(data: bytes, name: str) -> str:
    unsupported = BadLine(name, 0, "unsupported_encoding")
    decoded: dict[str, str] = {}
    for codec in CHINESE_CODECS:
        try:
            decoded[codec] = data.decode(codec)
        except UnicodeDecodeError:
            continue
    if not decoded:
        raise unsupported
    scores = {codec: _common_share(text, codec) for codec, text in decoded.items()}
    ranked = sorted(scores, key=lambda c: scores[c], reverse=True)
    best = ranked[0]
    if len(ranked) > 1 and scores[best] - scores[ranked[1]] < 0.1:
        guess = _normalizer_guess(data)
        best = guess if guess in decoded else "gb18030"
    # Real Chinese is overwhelmingly common characters; scattered rare ones mean
    # some other encoding (Latin-1, BOM-less UTF-16 ...) read as GB or Big5.
    if _han_count(decoded[best]) >= 20 and scores[best] < 0.5:
        raise unsupported
    return _check_text(decoded[best], name)


def decode_bytes(data: bytes, name: str) -> str:
    """Decode a whole file's bytes, or raise a typed error naming it (``name``)."""
    if not data:
        raise BadLine(name, 0, "empty_file")
    for bom, codec in BOMS:
        if data.startswith(bom):
            try:
                return _check_text(data.decode(codec), name)
            except UnicodeDecodeError as exc:
                raise BadLine(name, _line_of(data, exc.start), "invalid_text", codec) from None
    utf16 = _utf16_by_nuls(data)
    if utf16 is not None:
        try:
            return _check_text(data.decode(utf16), name)
        except UnicodeDecodeError:
            pass  # not UTF-16 after all: NULs make it binary below
    try:
        return _check_text(data.decode("utf-8"), name)
    except UnicodeDecodeError as exc:
        bad = exc.start
    head = data[:bad]
    if len(head) - len(head.translate(None, _LEAD_BYTES)) >= 4:
        # Several well-formed multi-byte UTF-8 characters before the break: mixed encodings.
        raise BadLine(name, _line_of(data, bad), "mixed_utf8", str(bad))
    nul = data.find(b"\x00")
    if nul >= 0:
        raise BadLine(name, _line_of(data, nul), "nul_bytes")
    return _decode_chinese(data, name)
