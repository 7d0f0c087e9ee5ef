"""Decoding imported bytes: UTF-8/16 (with or without BOM), GB18030/GBK and Big5.

Order of trust: a BOM; strict UTF-8; UTF-16 recognised by its NUL pattern;
then charset-normalizer's verdict restricted to the Chinese families we
support, where GB18030 stands for GBK and GB2312 (it is their superset).
Text that is mostly valid UTF-8 with a broken stretch is refused rather than
guessed: mixing encodings inside one file silently corrupts the text that
every coding points into.
"""

from __future__ import annotations

import codecs

from groundcode.errors import UsageError

BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
CHINESE = {"gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030", "hz": "gb18030",
           "big5": "big5", "big5hkscs": "big5hkscs", "cp950": "big5"}


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _utf16_guess(data: bytes) -> str | None:
    sample = data[:4000]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) / 2
    if odd > 0.3 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\n\r\t\f") or 0x7F <= ord(ch) < 0xA0)
    return bad / len(text)


def decode_bytes(data: bytes, name: str) -> str:
    """Decode a whole file, or raise a one-line UsageError naming it."""
    if not data:
        raise UsageError(f"{name}: empty file")
    for bom, codec in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise UsageError(f"{name}: broken {codec} text at byte {exc.start}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    else:
        if "\x00" in text:
            raise UsageError(f"{name}: line {text[:text.index(chr(0))].count(chr(10)) + 1}: NUL bytes (binary data?)")
        if _control_ratio(text) > 0.05:
            raise UsageError(f"{name}: looks like binary data, not text")
        return text
    utf16 = _utf16_guess(data)
    if utf16:
        try:
            return data.decode(utf16)
        except UnicodeDecodeError:
            pass
    # Mostly valid UTF-8 up to a broken stretch: mixed encodings, refuse.
    head_ok = utf8_error.start
    if head_ok > 64 and any(b >= 0x80 for b in data[:head_ok]):
        raise UsageError(
            f"{name}: line {_line_of(data, head_ok)}: invalid UTF-8 at byte {head_ok} "
            "in otherwise UTF-8 text (mixed encodings?)"
        )
    if b"\x00" in data:
        raise UsageError(f"{name}: binary data (NUL bytes), not text")
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["gb18030", "big5", "utf_8"]).best()
    candidates: list[str] = []
    if best is not None and best.encoding:
        enc = best.encoding.replace("_", "").lower()
        enc = {"gb18030": "gb18030", "big5": "big5", "utf8": "utf-8"}.get(enc, enc)
        candidates.append(CHINESE.get(enc, enc))
    for fallback in ("gb18030", "big5"):
        if fallback not in candidates:
            candidates.append(fallback)
    for codec in candidates:
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        if _control_ratio(text) > 0.05:
            continue
        return text
    raise UsageError(f"{name}: not text in a supported encoding (UTF-8, UTF-16, GB18030/GBK, Big5)")
