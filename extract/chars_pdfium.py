"""The default character source: pypdfium2 (see :mod:`extract.chars` for the interface and
the tolerance against the pdfminer reference).

pdfium parses the page in C++; what is left in Python is about two foreign calls per
character (its text object and its origin) and a few per text object (font, size, matrix),
which is why this source is several times faster than pdfminer. The hot calls go through
prototypes that take and return plain addresses, avoiding ctypes' pointer objects.

Boxes are rebuilt the way pdfminer builds them, so both sources measure the same thing:
from the character's origin, its advance width and the font's descent, ``(0, descent)`` to
``(advance, descent + size)`` through the character's matrix. pdfium's own "loose" box
spans the font's ascent and descent instead, and its tight box the glyph's ink.

The document is opened by :func:`pages` itself, inside whichever process calls it: a pdfium
document must never cross a fork.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import re
import threading
import zlib
from collections.abc import Iterator, Sequence
from ctypes import POINTER, byref, c_double, c_float, c_int, c_ulong, c_void_p
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as raw
from pdfminer.fontmetrics import FONT_METRICS

from extract.chars import LIGATURES, Char, PageChars, Segment, axis_segments, is_shading, size_of

log = logging.getLogger(__name__)

# pdfium is not thread-safe: one call into it at a time per process.
LOCK = threading.RLock()


def _fn(name: str, restype: Any, *argtypes: Any) -> Any:
    """A prototype of pdfium's ``name`` on plain addresses (the same symbol pypdfium2
    loaded, so the same library state)."""
    address = ctypes.cast(getattr(raw, name), c_void_p).value
    return ctypes.CFUNCTYPE(restype, *argtypes)(address)


_PD = POINTER(c_double)
_PF = POINTER(c_float)
_CountChars = _fn("FPDFText_CountChars", c_int, c_void_p)
_GetText = _fn("FPDFText_GetText", c_int, c_void_p, c_int, c_int, c_void_p)
_GetUnicode = _fn("FPDFText_GetUnicode", ctypes.c_uint, c_void_p, c_int)
_GetLooseCharBox = _fn("FPDFText_GetLooseCharBox", c_int, c_void_p, c_int, c_void_p)
_GetCharMatrix = _fn("FPDFText_GetMatrix", c_int, c_void_p, c_int, c_void_p)
# The two calls made once per character, declared without argument types: ctypes then
# converts nothing, which makes a call about three times cheaper (0.33 s -> 0.12 s for
# 300,000 FPDFText_GetCharOrigin calls). Callers pass exactly the C types: a c_void_p
# handle, a Python int for a C int, byref out-pointers.
_FastTextObject = _fn("FPDFText_GetTextObject", c_void_p)
_FastCharOrigin = _fn("FPDFText_GetCharOrigin", c_int)
_TextObjGetFont = _fn("FPDFTextObj_GetFont", c_void_p, c_void_p)
_TextObjGetFontSize = _fn("FPDFTextObj_GetFontSize", c_int, c_void_p, _PF)
_FontGetBaseFontName = _fn("FPDFFont_GetBaseFontName", c_ulong, c_void_p, c_void_p, c_ulong)
_FontGetDescent = _fn("FPDFFont_GetDescent", c_int, c_void_p, c_float, _PF)
_FontGetGlyphWidth = _fn("FPDFFont_GetGlyphWidth", c_int, c_void_p, ctypes.c_uint32, c_float,
                         _PF)
_CountObjects = _fn("FPDFPage_CountObjects", c_int, c_void_p)
_GetObject = _fn("FPDFPage_GetObject", c_void_p, c_void_p, c_int)
_FormCountObjects = _fn("FPDFFormObj_CountObjects", c_int, c_void_p)
_FormGetObject = _fn("FPDFFormObj_GetObject", c_void_p, c_void_p, ctypes.c_ulong)
_ObjGetType = _fn("FPDFPageObj_GetType", c_int, c_void_p)
_ObjGetMatrix = _fn("FPDFPageObj_GetMatrix", c_int, c_void_p, c_void_p)
_PathCountSegments = _fn("FPDFPath_CountSegments", c_int, c_void_p)
_PathGetSegment = _fn("FPDFPath_GetPathSegment", c_void_p, c_void_p, c_int)
_PathGetDrawMode = _fn("FPDFPath_GetDrawMode", c_int, c_void_p, POINTER(c_int), POINTER(c_int))
_SegGetPoint = _fn("FPDFPathSegment_GetPoint", c_int, c_void_p, _PF, _PF)
_SegGetType = _fn("FPDFPathSegment_GetType", c_int, c_void_p)
_SegGetClose = _fn("FPDFPathSegment_GetClose", c_int, c_void_p)
_TextObjGetText = _fn("FPDFTextObj_GetText", c_ulong, c_void_p, c_void_p, c_void_p, c_ulong)
_GetMediaBox = _fn("FPDFPage_GetMediaBox", c_int, c_void_p, _PF, _PF, _PF, _PF)
_GetPageBoundingBox = _fn("FPDF_GetPageBoundingBox", c_int, c_void_p, c_void_p)

# pdfium reports a hyphen it takes for a line-end hyphen as U+0002 (U+FFFE in a text run);
# pdfminer keeps the character the file has.
PDFIUM_HYPHEN = ("\x02", "\ufffe")
HYPHENS = "-\u00ad\u2010\u2011"
LIGATURE_OF = {text: lig for lig, text in LIGATURES.items()}  # "fi" -> "ﬁ"

Affine = tuple[float, float, float, float, float, float]  # a, b, c, d, e, f as in PDF


def _apply(m: Affine, x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def _mult(m: Affine, n: Affine) -> Affine:
    """``m`` then ``n`` (PDF's row-vector convention: ``m x n``)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2,
            e * a2 + f * c2 + e2, e * b2 + f * d2 + f2)


def page_transform(mediabox: Sequence[float], rotation: int
                   ) -> tuple[Affine, tuple[float, float, float, float]]:
    """PDF user space to pdfplumber's page coordinates, and pdfplumber's page bbox.

    pdfminer first moves the media box's corner to the origin and applies the page's
    /Rotate (its ``PDFPageInterpreter`` CTM); pdfplumber then flips y against the media
    box as normalised for the rotation (``_normalize_box``/``_invert_box``). Composed here
    into one affine map so pdfium's user-space points land where pdfminer's would.
    """
    x0, y0, x1, y1 = mediabox
    rot = rotation % 360
    ctm: Affine
    if rot == 90:
        ctm = (0, -1, 1, 0, -y0, x1)
    elif rot == 180:
        ctm = (-1, 0, 0, -1, x1, y1)
    elif rot == 270:
        ctm = (0, 1, -1, 0, y1, -x0)
    else:
        ctm = (1, 0, 0, 1, -x0, -y0)
    nx0, nx1 = sorted((x0, x1))
    ny0, ny1 = sorted((y0, y1))
    if rot in (90, 270):
        nx0, ny0, nx1, ny1 = ny0, nx0, ny1, nx1
    height = ny1 - ny0
    # pl_x = m_x + nx0; pl_top = height - m_y - ny0
    flip: Affine = (1, 0, 0, -1, nx0, height - ny0)
    return _mult(ctm, flip), (nx0, -ny0, nx1, height - ny0)


DESCRIPTOR_RE = re.compile(
    rb"/FontName\s*/([^\s/\[\]<>()]+)(?:(?!/FontName|endobj).)*?/Descent\s+(-?[\d.]+)"
    rb"|/Descent\s+(-?[\d.]+)(?:(?!/Descent|endobj).)*?/FontName\s*/([^\s/\[\]<>()]+)",
    re.S)
OBJSTM_RE = re.compile(rb"/Type\s*/ObjStm")
SUBSET_RE = re.compile(r"^[A-Z]{6}\+")


def font_descents(data: bytes) -> dict[str, float]:
    """Each font descriptor's /Descent (per em) by font name without its subset tag, read
    from the file itself: pdfminer uses that number as it stands, pdfium replaces a
    /Descent of 0 (LibreOffice writes one) by the font program's. Descriptors inside
    compressed object streams are read too; a font not found keeps pdfium's value."""
    chunks = [data]
    if OBJSTM_RE.search(data):
        for m in OBJSTM_RE.finditer(data):
            at = data.find(b"stream", m.end())
            end = data.find(b"endstream", at)
            if at < 0 or end < 0:
                continue
            body = data[at + 6:end].lstrip(b"\r\n")
            with contextlib.suppress(zlib.error):
                chunks.append(zlib.decompressobj().decompress(body, 50_000_000))
    out: dict[str, float] = {}
    for chunk in chunks:
        if b"/Descent" not in chunk:
            continue
        for m in DESCRIPTOR_RE.finditer(chunk):
            name, value = (m[1], m[2]) if m[1] else (m[4], m[3])
            with contextlib.suppress(ValueError):
                key = SUBSET_RE.sub("", name.decode("latin-1"))
                out.setdefault(key, float(value) / 1000)
    return out


class _Font:
    __slots__ = ("desc", "handle", "name", "widths")

    def __init__(self, handle: int, descents: dict[str, float]) -> None:
        self.handle = handle
        buf = ctypes.create_string_buffer(256)
        n = _FontGetBaseFontName(handle, buf, 256)
        self.name = buf.raw[:max(0, n - 1)].decode("latin-1")
        # pdfminer takes the 14 standard fonts' metrics from its AFM tables, every other
        # font's from its descriptor, as written.
        afm = FONT_METRICS.get(self.name)
        if afm is not None:
            self.desc = float(afm[0].get("Descent", 0)) / 1000
        elif SUBSET_RE.sub("", self.name) in descents:
            self.desc = descents[SUBSET_RE.sub("", self.name)]
        else:
            d = c_float()
            self.desc = d.value / 1000 if _FontGetDescent(handle, 1000.0, byref(d)) else 0.0
        self.desc = -abs(self.desc)
        self.widths: dict[str, float] = {}  # per character, at size 1

    def width(self, ch: str) -> float | None:
        w = self.widths.get(ch)
        if w is None:
            out = c_float()
            if len(ch) != 1 or not _FontGetGlyphWidth(self.handle, ord(ch), 1.0, byref(out)):
                return None
            w = self.widths[ch] = out.value
        return w


def _text(tp: int, n: int) -> list[str]:
    """The characters' text, one string per character index."""
    units = (ctypes.c_ushort * (2 * n + 2))()
    got = _GetText(tp, 0, n, units)
    text = bytes(units)[: 2 * max(0, got - 1)].decode("utf-16-le", "replace")
    if len(text) == n:
        return list(text)
    # Characters outside the basic plane take two UTF-16 units: ask one by one.
    return [chr(_GetUnicode(tp, i) or 0xFFFD) for i in range(n)]


def _object_text(obj: int, tp: int) -> str:
    units = (ctypes.c_ushort * 512)()
    got = _TextObjGetText(obj, tp, units, 1024)
    return bytes(units)[: max(0, 2 * (got // 2) - 2)].decode("utf-16-le", "replace")


def _hyphen(obj: int, tp: int) -> str:
    """The hyphen the text object really holds where pdfium reports a line-end hyphen."""
    found = [ch for ch in _object_text(obj, tp) if ch in HYPHENS]
    return found[-1] if found else "-"


# font, size, a, b, c, d, name (then, in _chars, per-object constants for speed)
ObjInfo = tuple[Any, ...]


def _box(x: float, y: float, adv: float, info: ObjInfo, to_page: Affine, ch: str) -> Char:
    """A character's box as pdfminer's LTChar builds it: ``(0, descent)`` and ``(advance,
    descent + size)`` through the character's matrix (origin ``x, y``), then into page
    coordinates. (The same arithmetic is inlined in :func:`_chars` for speed.)"""
    font, size, a, b, c, d, name = info[:7]
    lo = font.desc * size
    hi = lo + size
    x0, y0 = _apply(to_page, x + c * lo, y + d * lo)
    x1, y1 = _apply(to_page, x + a * adv + c * hi, y + b * adv + d * hi)
    top, bottom = min(y0, y1), max(y0, y1)
    return (top, bottom, min(x0, x1), max(x0, x1), ch, name, size_of(bottom - top))


def _chars(tp: int, to_page: Affine, order: dict[int, int], descents: dict[str, float],
           keyed: bool = False) -> list[Char] | None:
    """The page's characters as pdfminer lists them.

    Three things pdfium does differently are undone here: it splits a ligature glyph
    ("ﬁ" mapped to "fi") into characters at one origin (joined again, as pdfminer keeps
    one character "fi"); it replaces some real spaces of a text object by a space of its
    own making (Chromium's output: restored at the end of the previous character); and it
    may list a rotated page's lines in reading order (put back in content-stream order,
    ``order``: text object -> its place in the stream).

    Returns None, when not ``keyed``, if the characters are out of stream order: the caller
    asks again with ``keyed`` (the sort keys cost time on every page, needed on few).
    """
    n = _CountChars(tp)
    if n <= 0:
        return []
    texts = _text(tp, n)
    hyphens = any(h in "".join(texts) for h in PDFIUM_HYPHEN)
    ox, oy = c_double(), c_double()
    rox, roy = byref(ox), byref(oy)
    fonts: dict[int, _Font] = {}
    objects: dict[int, tuple[Any, ...]] = {}
    matrix = raw.FS_MATRIX()
    rect = raw.FS_RECTF()
    fs = c_float()
    pa, pb, pc, pd, pe, pf = to_page
    out: list[Char] = []
    append = out.append
    keys: list[tuple[int, float]] = []  # (stream place, advance along the text) per char
    last = -1
    prev_obj, prev_x, prev_y, prev_adv, prev_i = 0, 0.0, 0.0, 0.0, 0
    last_h, last_size = -1.0, 0.0
    pending = False  # a space of pdfium's making came after the last character
    fast_obj, fast_origin, tph = _FastTextObject, _FastCharOrigin, c_void_p(tp)
    cur_obj = 0
    for i in range(n):
        obj = fast_obj(tph, i)
        if not obj:  # made by pdfium (spaces, line breaks): pdfminer has none...
            pending = texts[i] == " " and prev_obj != 0 and bool(out) and out[-1][4] != " "
            if pending:  # pdfium's virtual spaces start at the previous glyph's right edge
                fast_origin(tph, i, rox, roy)
                _GetLooseCharBox(tp, prev_i, byref(rect))
                pending = abs(ox.value - rect.right) > 0.01
            continue
        if obj != cur_obj:  # a text object's characters come together: look it up once
            cur_obj = obj
            place = order.get(obj, last)
            if place < last and not keyed:
                return None
            last = place
            info = objects.get(obj)
            if info is None:
                handle = _TextObjGetFont(obj)
                font = fonts.get(handle)
                if font is None:
                    font = fonts[handle] = _Font(handle, descents)
                size = fs.value if _TextObjGetFontSize(obj, byref(fs)) else 0.0
                _GetCharMatrix(tp, i, byref(matrix))
                lo = font.desc * size
                hi = lo + size
                info = objects[obj] = (font, size, matrix.a, matrix.b, matrix.c, matrix.d,
                                       font.name, font.widths, matrix.c * lo, matrix.d * lo,
                                       matrix.c * hi, matrix.d * hi)
            font, size, a, b, _, _, name, widths, clo, dlo, chi, dhi = info
        ch = texts[i]
        if hyphens and ch in PDFIUM_HYPHEN:
            ch = _hyphen(obj, tp)
        fast_origin(tph, i, rox, roy)
        x, y = ox.value, oy.value
        if pending:
            pending = False
            # ...unless it stands for a real space pdfium swallowed (Chromium's output):
            # pdfium's space then sits inside the gap, not at the previous glyph's edge,
            # and the next character starts one space's width (within a tenth) on.
            p_info = objects[prev_obj]
            sx, sy = prev_x + p_info[2] * prev_adv, prev_y + p_info[3] * prev_adv
            w = p_info[0].width(" ")
            sw = p_info[2] * w * p_info[1] if w else 0.0
            if sw > 0 and y == prev_y and abs((x - sx) - sw) <= 0.1 * sw:
                if keyed:
                    keys.append((last, p_info[2] * sx + p_info[3] * sy))
                append(_box(sx, sy, w * p_info[1], p_info, to_page, " "))
        if obj == prev_obj and x == prev_x and y == prev_y and out:
            # One glyph, several characters (a ligature: pdfium spells "ﬁ" as "fi", whether
            # the file maps the glyph to the one or the other). Its advance is the font's
            # width of the ligature where the font has one, else pdfium's box of the glyph.
            text = out[-1][4] + ch
            lig = LIGATURE_OF.get(text)
            w = font.width(lig) if lig else None
            if w:
                prev_adv = w * size
            else:
                _GetLooseCharBox(tp, i, byref(rect))
                prev_adv = (rect.right - x) / a if a else prev_adv
            out[-1] = _box(x, y, prev_adv, info, to_page, text)
            prev_i = i
            continue
        if keyed:
            keys.append((place, a * x + b * y))
        w = widths.get(ch)
        if w is None:
            w = font.width(ch)
        if w is None:  # no width for this character: the advance from pdfium's box
            _GetLooseCharBox(tp, i, byref(rect))
            adv = (rect.right - x) / a if a else 0.0
        else:
            adv = w * size
        prev_obj, prev_x, prev_y, prev_adv, prev_i = obj, x, y, adv, i
        # _box, inlined: this loop runs once per character of the release.
        x0, y0 = x + clo, y + dlo
        x1, y1 = x + a * adv + chi, y + b * adv + dhi
        px0, pt0 = pa * x0 + pc * y0 + pe, pb * x0 + pd * y0 + pf
        px1, pt1 = pa * x1 + pc * y1 + pe, pb * x1 + pd * y1 + pf
        if px1 < px0:
            px0, px1 = px1, px0
        if pt1 < pt0:
            pt0, pt1 = pt1, pt0
        h = pt1 - pt0
        if h != last_h:
            last_h, last_size = h, size_of(h)
        append((pt0, pt1, px0, px1, ch, name, last_size))
    if keyed:
        out = [c for _, c in sorted(zip(keys, out, strict=True), key=lambda kc: kc[0])]
    return out


def _path_points(obj: int, m: Affine, to_page: Affine) -> list[list[tuple[float, float]]]:
    """Subpaths of a path object as pdfminer keeps them: the end point of every segment
    (a Bézier's control points dropped) and the start point again where it is closed."""
    x, y = c_float(), c_float()
    rx, ry = byref(x), byref(y)
    subpaths: list[list[tuple[float, float]]] = []
    cur: list[tuple[float, float]] = []
    bezier = 0
    for j in range(_PathCountSegments(obj)):
        seg = _PathGetSegment(obj, j)
        kind = _SegGetType(seg)
        if kind == raw.FPDF_SEGMENT_BEZIERTO:
            bezier += 1
            if bezier % 3:  # the two control points
                continue
        else:
            bezier = 0
        _SegGetPoint(seg, rx, ry)
        pt = _apply(to_page, *_apply(m, x.value, y.value))
        if kind == raw.FPDF_SEGMENT_MOVETO or not cur:
            if len(cur) > 1:
                subpaths.append(cur)
            cur = [pt]
        else:
            cur.append(pt)
        if _SegGetClose(seg) and cur:
            cur.append(cur[0])
    if len(cur) > 1:
        subpaths.append(cur)
    return subpaths


def _objects(get_count: Any, get_obj: Any, holder: int, m: Affine, to_page: Affine,
             segments: list[Segment], shading: list[Segment], order: dict[int, int]) -> int:
    """Rulings and images of a page or form XObject, and the stream order of its text
    objects (into ``order``); returns the images seen."""
    images = 0
    fm = raw.FS_MATRIX()
    fill, stroke = c_int(), c_int()
    for k in range(get_count(holder)):
        obj = get_obj(holder, k)
        kind = _ObjGetType(obj)
        if kind == raw.FPDF_PAGEOBJ_TEXT:
            order[obj] = len(order)
        elif kind == raw.FPDF_PAGEOBJ_IMAGE:
            images += 1
        elif kind in (raw.FPDF_PAGEOBJ_PATH, raw.FPDF_PAGEOBJ_FORM):
            own: Affine = (1, 0, 0, 1, 0, 0)
            if _ObjGetMatrix(obj, byref(fm)):
                own = (fm.a, fm.b, fm.c, fm.d, fm.e, fm.f)
            total = _mult(own, m)
            if kind == raw.FPDF_PAGEOBJ_FORM:
                images += _objects(_FormCountObjects, _FormGetObject, obj, total, to_page,
                                   segments, shading, order)
                continue
            if not _PathGetDrawMode(obj, byref(fill), byref(stroke)):
                fill.value, stroke.value = 0, 1
            if not (fill.value or stroke.value):
                continue  # neither filled nor stroked: nothing is drawn
            for pts in _path_points(obj, total, to_page):
                xs, ys = [p[0] for p in pts], [p[1] for p in pts]
                shaded = is_shading(bool(fill.value), bool(stroke.value),
                                    max(xs) - min(xs), max(ys) - min(ys))
                (shading if shaded else segments).extend(axis_segments(pts))
    return images


def _mediabox(page: int) -> tuple[float, float, float, float]:
    """The page's media box, inherited from its parents where it has none of its own
    (``FPDFPage_GetMediaBox`` reads only the page's own; pdfium's page box is the media box
    clipped by the crop box, the same when there is no crop box)."""
    x0, y0, x1, y1 = c_float(), c_float(), c_float(), c_float()
    if _GetMediaBox(page, byref(x0), byref(y0), byref(x1), byref(y1)):
        return x0.value, y0.value, x1.value, y1.value
    rect = raw.FS_RECTF()
    _GetPageBoundingBox(page, byref(rect))
    return rect.left, rect.bottom, rect.right, rect.top


def _page(doc: pdfium.PdfDocument, number: int, descents: dict[str, float]) -> PageChars:
    page = doc[number - 1]
    try:
        handle = ctypes.cast(page.raw, c_void_p).value
        to_page, bbox = page_transform(_mediabox(handle), page.get_rotation())
        segments: list[Segment] = []
        shading: list[Segment] = []
        order: dict[int, int] = {}
        images = _objects(_CountObjects, _GetObject, handle, (1, 0, 0, 1, 0, 0), to_page,
                          segments, shading, order)
        textpage = page.get_textpage()
        try:
            tp = ctypes.cast(textpage.raw, c_void_p).value
            chars = _chars(tp, to_page, order, descents)
            if chars is None:  # out of stream order (a rotated page): sort them
                chars = _chars(tp, to_page, order, descents, keyed=True) or []
        finally:
            textpage.close()
    finally:
        page.close()
    return PageChars(number, bbox[2] - bbox[0], bbox[3] - bbox[1], bbox, chars, segments,
                     shading, images)


FILTER_RE = re.compile(rb"/Filter\s*(?:\[\s*)?/(\w+)")
NOT_A85 = re.compile(rb"[^!-uz\s]")
NOT_HEX = re.compile(rb"[^0-9A-Fa-f\s]")


def _check_a85(data: bytes) -> None:
    """What makes pdfminer's ``ascii85decode`` fail: a byte that is no ASCII85 digit (once
    its ``<~``/``~>`` markers are stripped)."""
    data = data.strip()
    data = data[2:] if data.startswith(b"<~") else data.lstrip(b"~")
    data = data[:-2] if data.endswith(b"~>") else data.rstrip(b"~")
    bad = NOT_A85.search(data)
    if bad:
        raise ValueError(f"Non-Ascii85 digit found: {bad.group().decode('latin-1')}")


def _check_hex(data: bytes) -> None:
    """What makes pdfminer's ``asciihexdecode`` fail: a non-hex byte before ``>``."""
    cut = data.find(b">")
    if NOT_HEX.search(data[:cut] if cut >= 0 else data):
        raise ValueError("Non-hexadecimal digit found")


ASCII_FILTERS = {b"ASCII85Decode": _check_a85, b"A85": _check_a85,
                 b"ASCIIHexDecode": _check_hex, b"AHx": _check_hex}


def check_streams(data: bytes) -> None:
    """Raise ValueError for a stream whose ASCII85/ASCIIHex text is garbled.

    pdfium skips bad digits and draws what is left, so a damaged download would be read in
    part without a word; pdfminer (the reference) refuses the file. The same decoders as
    pdfminer's are run on those streams only (binary filters are left to pdfium: pdfminer
    too reads what it can of a broken Flate stream). Encrypted files are not checked
    (their streams are ciphertext until opened). Regular expressions, not decoding: a
    100-page release is checked in a few milliseconds.
    """
    if b"/Encrypt" in data or not any(f in data for f in (b"/ASCII", b"/A85", b"/AHx")):
        return
    at = data.find(b"stream")
    while at >= 0:
        end = data.find(b"endstream", at)
        if end < 0:
            end = len(data)
        if data[at - 3:at] != b"end":  # "stream", not the end of the previous one
            head = max(data.rfind(b" obj", 0, at), data.rfind(b"endobj", 0, at), 0)
            f = FILTER_RE.search(data, head, at)
            check = ASCII_FILTERS.get(f.group(1)) if f else None
            if check is not None:
                check(data[at + 6:end])
        at = data.find(b"stream", end + 9)


def page_count(path: Path) -> int:
    """Open the document once: encryption and broken structure show up here."""
    check_streams(path.read_bytes())
    with LOCK:
        doc = pdfium.PdfDocument(str(path))
        try:
            return len(doc)
        finally:
            doc.close()


def pages(path: Path, numbers: Sequence[int] | None = None) -> Iterator[PageChars]:
    """The pages, read from a document opened here (in the calling process)."""
    descents = font_descents(Path(path).read_bytes())
    with LOCK:
        doc = pdfium.PdfDocument(str(path))
    try:
        for number in numbers if numbers is not None else range(1, len(doc) + 1):
            with LOCK:
                pc = _page(doc, number, descents)
            yield pc
    finally:
        with LOCK:
            doc.close()
