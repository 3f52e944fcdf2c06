"""The two character sources (pdfium, the default, and pdfminer, the reference) read every PDF
fixture of the suite to the same release.

The fixtures are not copied here: they are written by the suite's own generators from the
specifications the other PDF tests use (``tests/test_pdf_extract.py: CASES``,
``tests/test_layout_corpus.py: LAYOUTS``, ``tests/test_unseen_layouts.py: VARIANTS``, the
bad inputs of ``tests/test_pdf_bad_input.py``), plus the bundled sample PDF, so a layout
added to any of them is checked here too. For each file, both sources must give

* the same :class:`~extract.model.ParsedRelease` (tables, headers, every row's cells, page
  and row), or the same one-line refusal;
* page by page the same words (text, font size, bold, soft gaps, whether a space came
  before) and the same ruled tables, with word boxes within the documented tolerance;
* character by character the same text, font size and rulings, with boxes within the
  tolerance of :mod:`extract.chars`: 0.001 em vertically, 0.001 em per preceding character
  of the line horizontally (pdfium's whole-thousandth glyph widths), a ligature's right
  edge within 0.05 em, and a ligature code point ("ﬁ") equal to its letters ("fi").

Files needing LibreOffice or Chromium are ``slow`` and skip where the program is missing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen import canvas

from extract.chars import PageChars, source
from extract.model import IngestError
from extract.pdf import read_pdf
from extract.pdf_scan import LIGATURES, PageScan, scan_all
from tests import test_layout_corpus as corpus
from tests import test_pdf_bad_input as bad
from tests import test_pdf_extract as extract_cases
from tests import test_unseen_layouts as unseen
from tests.fixtures.office_pdf import soffice, write_office_pdf
from tests.fixtures.pdfgen import realistic_sections, write_register_pdf
from tests.test_pdf_bad_input import files  # noqa: F401 - the bad inputs, written once

REPO = Path(__file__).resolve().parents[1]
SAMPLES = sorted((REPO / "data" / "sample").glob("*.pdf"))
READERS = ("pdfminer", "pdfium")
EM_TOLERANCE = 0.001  # extract.chars: pdfium's whole-thousandth font metrics
LIGATURE_TOLERANCE = 0.05  # em: the right edge of a ligature glyph ("fi" as one character)
WORD_BOX_TOLERANCE = 1.0  # pt: word boxes, after drift along a line (words must still match)


# --- reading a file both ways --------------------------------------------------------------------


def outcome(path: Path, reader: str) -> tuple[str, Any]:
    """The release as plain data (without the reader's name), or the refusal's text."""
    try:
        parsed = read_pdf(path, settings={"reader": reader, "workers": 1})
    except IngestError as exc:
        return "refused", str(exc)
    data = dataclasses.asdict(parsed)
    assert data.pop("reader") == reader
    return "read", data


def scans(path: Path, reader: str) -> list[PageScan]:
    n = source(reader).page_count(path)
    return scan_all(path, n, None, {"reader": reader, "workers": 1})


def pages(path: Path, reader: str) -> list[PageChars]:
    return list(source(reader).pages(path))


def first_difference(a: Any, b: Any, where: str = "release") -> str:
    """Where two nested values first differ, for a readable failure."""
    if type(a) is not type(b):
        return f"{where}: {a!r} != {b!r}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b), key=str):
            if a.get(k) != b.get(k):
                return first_difference(a.get(k), b.get(k), f"{where}.{k}")
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return first_difference(x, y, f"{where}[{i}]")
    return f"{where}: {a!r} != {b!r}"


def assert_same_release(path: Path) -> None:
    ref, got = outcome(path, "pdfminer"), outcome(path, "pdfium")
    assert ref == got, f"{path.name}: {first_difference(ref, got)}"


def assert_same_words(path: Path) -> None:
    """Same words and ruled tables on every page; word boxes within tolerance."""
    ref, got = scans(path, "pdfminer"), scans(path, "pdfium")
    assert [s.number for s in ref] == [s.number for s in got]
    for a, b in zip(ref, got, strict=True):
        where = f"{path.name} p{a.number}"
        assert (a.chars, a.images) == (b.chars, b.images), where
        assert [(t.rows, t.open_bottom) for t in a.tables] == \
            [(t.rows, t.open_bottom) for t in b.tables], where
        assert all(abs(t.top - u.top) < 0.01 and abs(t.bottom - u.bottom) < 0.01
                   for t, u in zip(a.tables, b.tables, strict=True)), where
        assert abs(a.width - b.width) < 0.01 and abs(a.height - b.height) < 0.01, where
        assert [(w.text, w.size, w.bold, w.spaced, len(w.gaps)) for w in a.words] == \
            [(w.text, w.size, w.bold, w.spaced, len(w.gaps)) for w in b.words], where
        for v, w in zip(a.words, b.words, strict=True):
            worst = max(abs(v.x0 - w.x0), abs(v.x1 - w.x1), abs(v.top - w.top),
                        abs(v.bottom - w.bottom))
            assert worst <= WORD_BOX_TOLERANCE, f"{where}: {v} / {w}"
            assert abs(v.space - w.space) <= EM_TOLERANCE * v.size * 10, f"{where}: {v} / {w}"


def same_segments(a: list[Any], b: list[Any], tol: float = 0.01) -> bool:
    """The same rulings, each end within ``tol`` (pdfium keeps coordinates as floats)."""
    rest = sorted(b)
    for seg in sorted(a):
        match = next((i for i, o in enumerate(rest)
                      if all(abs(x - y) <= tol for x, y in zip(seg, o, strict=True))), None)
        if match is None:
            return False
        rest.pop(match)
    return not rest


def assert_same_chars(path: Path) -> None:
    """The character-level contract of extract.chars, with its tolerance."""
    for a, b in zip(pages(path, "pdfminer"), pages(path, "pdfium"), strict=True):
        where = f"{path.name} p{a.number}"
        assert [LIGATURES.get(c[4], c[4]) for c in a.chars] == \
            [LIGATURES.get(c[4], c[4]) for c in b.chars], where
        assert [c[6] for c in a.chars] == [c[6] for c in b.chars], where
        assert a.images == b.images, where
        assert all(abs(x - y) < 0.01 for x, y in zip(a.bbox, b.bbox, strict=True)), where
        for kind in ("segments", "shading"):
            assert same_segments(getattr(a, kind), getattr(b, kind)), f"{where} {kind}"
        along: dict[float, int] = {}  # characters seen so far on each line
        for p, q in zip(a.chars, b.chars, strict=True):
            k = along[round(p[1], 1)] = along.get(round(p[1], 1), -1) + 1
            em = EM_TOLERANCE * p[6]
            assert abs(p[0] - q[0]) <= em + 1e-3 and abs(p[1] - q[1]) <= em + 1e-3, \
                f"{where}: {p} / {q}"
            # a ligature's advance is pdfium's box of its glyph: up to 0.05 em wider
            end = em * (k + 1) + (LIGATURE_TOLERANCE * p[6] if len(q[4]) > 1 else 0)
            assert abs(p[2] - q[2]) <= em * k + 1e-3 and abs(p[3] - q[3]) <= end + 1e-3, \
                f"{where}: {p} / {q}"


def assert_identical(path: Path) -> None:
    assert_same_chars(path)
    assert_same_words(path)
    assert_same_release(path)


# --- the reportlab fixtures of test_pdf_extract --------------------------------------------------


@pytest.fixture(scope="session")
def extract_pdfs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    root = tmp_path_factory.mktemp("sources_extract")
    done: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in done:  # as tests/test_pdf_extract.py writes them
            spec = dict(extract_cases.CASES[name])
            sections = realistic_sections(spec.pop("seed"), spec.pop("counts"))
            path = root / f"{name}.pdf"
            write_register_pdf(path, sections, title=extract_cases.TITLE,
                               seed=list(extract_cases.CASES).index(name), **spec)
            done[name] = path
        return done[name]

    return get


@pytest.mark.parametrize("name", list(extract_cases.CASES))
def test_pdfgen_cases_read_the_same(name: str, extract_pdfs: Callable[[str], Path]) -> None:
    assert_identical(extract_pdfs(name))


@pytest.mark.parametrize("layout", ["ruled", "unruled"])
def test_pdfgen_hazards_read_the_same(layout: str, tmp_path: Path) -> None:
    """Blank cells, notes, an unrecognised header, and hyphenated line breaks."""
    variants: list[tuple[list[Any], dict[str, Any]]] = [
        (extract_cases.HAZARDS, {}), ([extract_cases.HYPHENS], {"hyphen_breaks": True}),
        (extract_cases.printed_sections(), extract_cases.SPREADSHEET_PRINT)]
    for i, (sections, options) in enumerate(variants):
        path = tmp_path / f"hazards_{i}.pdf"
        write_register_pdf(path, sections, title="SAMPLE register to end of March 2021",
                           layout=layout, seed=3 + i, **options)
        assert_identical(path)


# --- bad inputs: the same one-line reason --------------------------------------------------------


@pytest.mark.parametrize("kind", list(bad.REASONS))
def test_bad_inputs_refused_with_the_same_reason(
        kind: str, files: dict[str, Path]) -> None:  # noqa: F811
    ref, got = outcome(files[kind], "pdfminer"), outcome(files[kind], "pdfium")
    assert ref[0] == got[0] == "refused", (ref, got)
    assert bad.REASONS[kind] in ref[1] and bad.REASONS[kind] in got[1], (ref, got)


# --- the layout corpus and LibreOffice prints ----------------------------------------------------


def _slow_if(producer: str) -> list[Any]:
    return [pytest.mark.slow] if producer in corpus.NEEDS else []


@pytest.mark.parametrize("name", [pytest.param(n, marks=_slow_if(lay.producer))
                                  for n, lay in corpus.LAYOUTS.items()])
def test_layout_corpus_reads_the_same(name: str, tmp_path: Path) -> None:
    layout = corpus.LAYOUTS[name]
    need = corpus.NEEDS.get(layout.producer)
    if need is not None and need() is None:
        pytest.skip(f"{layout.producer} is not installed")
    sections = corpus.build_sections(layout.seed, layout.counts, layout.words)
    path = corpus._write(tmp_path / f"DfE_external_data_shares_{name}.pdf", layout, sections)
    assert_identical(path)


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(unseen.VARIANTS))
def test_libreoffice_prints_read_the_same(variant: str, tmp_path: Path) -> None:
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    path = tmp_path / f"DfE_external_data_shares_{variant}_to_end_September_2021.pdf"
    write_office_pdf(path, [t.fixture() for t in unseen._truths(variant)],
                     title=unseen.RELEASE_TITLE, borders=unseen.VARIANTS[variant][0])
    assert_identical(path)


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_bundled_sample_reads_the_same(path: Path) -> None:
    assert_identical(path)


def test_there_are_fixtures_to_compare() -> None:
    """Guard the guard: the generators above really offer layouts and the sample exists."""
    assert len(extract_cases.CASES) >= 5 and len(corpus.LAYOUTS) >= 10
    assert SAMPLES, "data/sample has no PDF"


# --- geometry the fixtures do not exercise: media box offset, rotation, form XObjects ------------


def _geometry_pdf(path: Path, rotate: int) -> Path:
    """A ruled register page whose table is drawn inside a form XObject, with text outside
    it too; then (through pdfium) a media box moved off the origin and a /Rotate."""
    plain = path.with_suffix(".plain.pdf")
    c = canvas.Canvas(str(plain), pagesize=landscape(A4))
    c.setFont("Helvetica-Bold", 13)
    c.drawString(40, 560, "DfE external data shares to end of March 2022")
    c.beginForm("grid")
    c.setFont("Helvetica", 8)
    xs, top, h = [40, 130, 320, 520], 520, 16
    rows = [["DSAP reference", "Organisation", "Project name"],
            ["DS00628", "FFT Education Ltd", "Attainment analysis"],
            ["DS00712", "University of Bristol", "School mobility and outcomes"]]
    for r, row in enumerate(rows):
        for x, text in zip(xs, row, strict=False):
            c.drawString(x + 3, top - h * r - 11, text)
    for r in range(len(rows) + 1):
        c.line(xs[0], top - h * r, xs[-1], top - h * r)
    for x in xs:
        c.line(x, top, x, top - h * len(rows))
    c.endForm()
    c.doForm("grid")
    c.setFont("Times-Roman", 9)
    c.drawString(40, 440, "Legal basis: Section 114 Education Act 2005")
    c.showPage()
    c.save()
    doc = pdfium.PdfDocument(str(plain))
    page = doc[0]
    w, h_ = page.get_size()
    pdfium_raw.FPDFPage_SetMediaBox(page.raw, 30, 50, w + 30, h_ + 50)
    page.set_rotation(rotate)
    doc.save(str(path))
    doc.close()
    return path


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
def test_offset_media_box_rotation_and_forms_agree(rotate: int, tmp_path: Path) -> None:
    path = _geometry_pdf(tmp_path / f"geometry_{rotate}.pdf", rotate)
    [ref], [got] = pages(path, "pdfminer"), pages(path, "pdfium")
    assert ref.segments and got.segments, "the form's rulings were not found"
    assert any(c[4] == "D" for c in got.chars)
    assert_same_chars(path)
    assert_same_words(path)
    if rotate == 0:  # the page reads as a register only upright
        [a], [b] = scans(path, "pdfminer"), scans(path, "pdfium")
        assert a.tables and [t.rows for t in a.tables] == [t.rows for t in b.tables]
        assert a.tables[0].rows[1] == ["DS00628", "FFT Education Ltd", "Attainment analysis"]


# --- worker processes die with their parent ------------------------------------------------------

STUCK_INGEST = """
import sys, time
from pathlib import Path
import extract.chars_pdfium as pdfium_source

real_pages = pdfium_source.pages

def stuck_pages(path, numbers=None):  # a page that takes for ever, as a hostile file can
    for page in real_pages(path, numbers):
        time.sleep(600)
        yield page

pdfium_source.pages = stuck_pages
from extract.ingest import ingest
ingest([Path(sys.argv[1])], Path(sys.argv[2]))
"""


def _children() -> dict[int, list[int]]:
    """Every live process's children, from /proc (zombies count as gone)."""
    out: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if state != "Z":
            out.setdefault(int(ppid), []).append(int(entry.name))
    return out


def _descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    live = {p for kids in _children().values() for p in kids}
    return pids & live


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_kill_during_pdf_parsing_leaves_no_worker(extract_pdfs: Callable[[str], Path],
                                                  tmp_path: Path) -> None:
    """kill -9 of an ingest while its page workers parse: the workers go too (issue 13 item
    5). The workers here are stuck on a page for ten minutes, so only their parent's death
    can end them within the wait below."""
    path = extract_pdfs("ruled")  # over 20 pages: scanned by the two-process pool
    env = {k: v for k, v in os.environ.items() if k != "NPD_DB"}
    proc = subprocess.Popen([sys.executable, "-c", STUCK_INGEST, str(path),
                             str(tmp_path / "register.duckdb")], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    everyone: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        workers: set[int] = set()
        while time.monotonic() < deadline and proc.poll() is None:
            tree = _children()
            # the pool's workers: processes two or more levels below the ingest
            below = {g for c in tree.get(proc.pid, []) for g in _descendants(c)}
            if len(below) >= 2:
                workers = below
                break
            time.sleep(0.05)
        assert workers, "the ingest never started its page workers"
        everyone = _descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 30
        while _alive(everyone) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(everyone), f"left running after kill -9: {_alive(everyone)}"
    finally:  # never leave a stuck worker behind, whatever happened above
        if proc.poll() is None:
            everyone |= _descendants(proc.pid)
            proc.kill()
            proc.wait()
        for pid in _alive(everyone):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
