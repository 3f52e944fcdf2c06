"""Read one untrusted file without letting it take the tool down.

Two layers, because either alone leaves a gap:

1. **Pre-checks** (:func:`precheck`) read only what a file *declares*, cheaply, and refuse it
   with a reason a user can act on: its size; a workbook's zip members (declared uncompressed
   sizes and ratios); the extent of its cells (a single cell at XFD1048576 makes the sheet
   library allocate a dense 1,048,576 x 16,384 grid, 512 GiB); an ODS file's repeated rows
   and columns (empty repeats cost nothing and are not counted; repeated content is); a
   PDF's page count (pdfium reads it without parsing the pages).
2. **Isolation** (:func:`run_isolated`): the reader runs in a forked child process in its own
   process group, with an address-space limit (``RLIMIT_AS``), a CPU-time limit and a
   wall-clock deadline. Whatever happens there (a Rust allocation abort, a segfault, a
   MemoryError, a hang) the parent sees a one-line reason, kills the whole group (the PDF
   reader's page workers too) and carries on with the next file. The parent's database
   connection is never touched by the child.

The limits are :class:`extract.limits.Limits`, documented in ``docs/limits.md``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import re
import resource
import select
import signal
import struct
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError, XMLPullParser

from extract.limits import Limits, human_bytes
from extract.model import IngestError

ZIP_FORMATS = {".xlsx", ".xlsm", ".ods"}
_PR_SET_PDEATHSIG = 1


# --- 1. what a file declares ----------------------------------------------------------------

def check_kind(path: Path) -> None:
    """Refuse anything but a regular file, saying what it is. Never opens it (a FIFO would
    block the reader until someone writes to it)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise IngestError("no such file") from None
    except NotADirectoryError:
        raise IngestError("no such file (a part of the path is not a folder)") from None
    except OSError as exc:
        raise IngestError(f"cannot read the file ({(exc.strerror or str(exc)).lower()})") from None
    import stat as st_mod

    mode = st.st_mode
    kinds = [(st_mod.S_ISFIFO, "a named pipe (FIFO)"), (st_mod.S_ISCHR, "a character device"),
             (st_mod.S_ISBLK, "a block device"), (st_mod.S_ISSOCK, "a socket"),
             (st_mod.S_ISDIR, "a folder")]
    for test, what in kinds:
        if test(mode):
            raise IngestError(f"is {what}, not a regular file; refused")


def precheck(path: Path, limits: Limits | None = None) -> None:
    """Refuse a file whose declared size, extent or pages exceed ``limits``. Raises IngestError."""
    limits = Limits.resolve(limits)
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise IngestError(f"file is {human_bytes(size)}, over the limit of "
                          f"{human_bytes(limits.max_file_bytes)} per file; refused")
    suffix = path.suffix.lower()
    if suffix in ZIP_FORMATS:
        check_workbook(path, limits)
    elif suffix == ".pdf":
        check_pdf_pages(path, limits)


def check_workbook(path: Path, limits: Limits) -> None:
    """Zip members' declared sizes and ratios, then the cell extent of every sheet."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return  # not a zip at all: the reader says what it is
    with zf:
        infos = zf.infolist()
        total = sum(i.file_size for i in infos)
        if total > limits.max_unpacked_bytes:
            raise IngestError(
                f"workbook unpacks to {human_bytes(total)}, over the limit of "
                f"{human_bytes(limits.max_unpacked_bytes)}; refused (a zip bomb?)")
        for i in infos:
            if i.file_size >= limits.ratio_min_bytes:
                ratio = i.file_size / max(i.compress_size, 1)
                if ratio > limits.max_zip_ratio:
                    raise IngestError(
                        f"workbook part {i.filename} inflates {ratio:,.0f} times "
                        f"({human_bytes(i.compress_size)} to {human_bytes(i.file_size)}), over "
                        f"the limit of {limits.max_zip_ratio} times; refused (a zip bomb?)")
        names = set(zf.namelist())
        try:
            if "content.xml" in names and path.suffix.lower() == ".ods":
                extents = ods_extents(zf, limits)
            else:
                titles = xlsx_sheet_names(zf)
                extents = [xlsx_extent(zf, n, titles.get(n)) for n in sorted(names)
                           if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n)]
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError,
                NotImplementedError, RuntimeError, ParseError):
            return  # damaged or encrypted members: the reader reports them
    check_extents([e for e in extents if e is not None], limits)


@dataclass(frozen=True)
class Extent:
    """The dense grid a sheet library will allocate for one sheet: rows x columns."""

    sheet: str
    rows: int
    columns: int
    last_cell: str

    @property
    def cells(self) -> int:
        return self.rows * self.columns


def check_extents(extents: list[Extent], limits: Limits) -> None:
    for e in extents:
        if e.columns > limits.max_columns:
            raise IngestError(f"sheet {e.sheet} reaches column {e.columns:,}, over the limit of "
                              f"{limits.max_columns:,} columns; refused")
        if e.rows > limits.max_rows_per_table:
            raise IngestError(
                f"sheet {e.sheet} has {e.rows:,} rows with content (down to {e.last_cell}), "
                f"over the limit of {limits.max_rows_per_table:,} rows per table; refused")
    cells = sum(e.cells for e in extents)
    if cells > limits.max_cells_per_file:
        big = max(extents, key=lambda e: e.cells)
        raise IngestError(
            f"sheet {big.sheet} spans {big.rows:,} rows x {big.columns:,} columns (to cell "
            f"{big.last_cell}): {cells:,} cells in the file, over the limit of "
            f"{limits.max_cells_per_file:,} cells per file; refused")


def column_letters(n: int) -> str:
    """1 -> A, 16384 -> XFD."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


# A cell with a position; a self-closing one (``<c r="B2" s="1"/>``) has no value and costs
# the sheet library nothing, so only cells with content count towards the extent.
_XLSX_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*?\sr=\"([A-Z]{1,4})([0-9]{1,9})\"[^>]*?(/?)>")


def xlsx_sheet_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part -> the tab name a user sees (from workbook.xml and its relationships)."""
    try:
        with zf.open("xl/workbook.xml") as fh:
            book = fh.read(1 << 20)
        with zf.open("xl/_rels/workbook.xml.rels") as fh:
            rels = fh.read(1 << 20)
    except (KeyError, OSError, zipfile.BadZipFile, RuntimeError, NotImplementedError):
        return {}
    targets = {m.group(1): m.group(2) for m in re.finditer(
        rb'<Relationship\b[^>]*?\bId="([^"]+)"[^>]*?\bTarget="([^"]+)"', rels)}
    targets.update({m.group(2): m.group(1) for m in re.finditer(
        rb'<Relationship\b[^>]*?\bTarget="([^"]+)"[^>]*?\bId="([^"]+)"', rels)})
    out: dict[str, str] = {}
    for m in re.finditer(rb'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]+)"', book):
        target = targets.get(m.group(2))
        if target:
            part = target.decode("utf-8", "replace").lstrip("/")
            part = part if part.startswith("xl/") else f"xl/{part}"
            out[part] = repr(m.group(1).decode("utf-8", "replace"))
    return out


def xlsx_extent(zf: zipfile.ZipFile, member: str, title: str | None = None) -> Extent | None:
    """Stream one worksheet's XML and find the box its valued cells span."""
    rmin = cmin = 1 << 62
    rmax = cmax = 0
    tail = b""
    with zf.open(member) as fh:
        while chunk := fh.read(1 << 20):
            buf = tail + chunk
            cut = buf.rfind(b"<")
            scan, tail = (buf[:cut], buf[cut:]) if cut > 0 else (buf, b"")
            if len(tail) > 4096:  # a giant tag: scan it rather than carry it forward
                scan, tail = buf, b""
            for m in _XLSX_CELL.finditer(scan):
                if m.group(3):
                    continue
                col, row = _column_number(m.group(1)), int(m.group(2))
                rmin, rmax = min(rmin, row), max(rmax, row)
                cmin, cmax = min(cmin, col), max(cmax, col)
    if not rmax:
        return None
    name = title or member.rsplit("/", 1)[-1]
    return Extent(name, rmax - rmin + 1, cmax - cmin + 1, f"{column_letters(cmax)}{rmax}")


_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


def _repeat(el: Any, attr: str) -> int:
    raw = el.get(f"{_TABLE}{attr}", "1")
    try:
        return max(1, int(raw))
    except ValueError:
        raise IngestError(f"damaged ODS: {attr} is {raw[:20]!r}, not a number") from None


def ods_extents(zf: zipfile.ZipFile, limits: Limits) -> list[Extent | None]:
    """Walk content.xml as a stream: per table, the box its non-empty (repeated) cells span.

    Empty rows and cells repeated a million times, which LibreOffice writes to pad every
    sheet, are skipped; a row *with content* repeated a million times is a million rows.
    """
    parser = XMLPullParser(events=("start", "end"))
    out: list[Extent | None] = []
    stack: list[Any] = []
    name, row_pos, rmin, rmax, cmax = "?", 0, 0, 0, 0

    def extent() -> Extent | None:
        return (Extent(repr(name), rmax - rmin + 1, cmax, f"{column_letters(cmax)}{rmax}")
                if rmax else None)

    with zf.open("content.xml") as fh:
        while chunk := fh.read(1 << 20):
            parser.feed(chunk)
            for event, el in parser.read_events():
                if event == "start":
                    stack.append(el)
                    if el.tag == f"{_TABLE}table":
                        name, row_pos, rmin, rmax, cmax = el.get(f"{_TABLE}name", "?"), 0, 0, 0, 0
                    continue
                stack.pop()
                if el.tag == f"{_TABLE}table-row":
                    reps = _repeat(el, "number-rows-repeated")
                    col, last = 0, 0
                    for cell in el:
                        creps = _repeat(cell, "number-columns-repeated")
                        if len(cell) or cell.get(f"{_OFFICE}value-type"):
                            last = col + creps
                        col += creps
                    if last:
                        rmin = rmin or row_pos + 1
                        rmax, cmax = row_pos + reps, max(cmax, last)
                        if rmax - rmin + 1 > limits.max_rows_per_table:
                            return [*out, extent()]  # already over: no need to read on
                    row_pos += reps
                elif el.tag == f"{_TABLE}table":
                    out.append(extent())
                else:
                    continue
                if stack and len(stack[-1]) and stack[-1][-1] is el:
                    del stack[-1][-1]  # done with it: keep the tree from growing
    return out


def check_pdf_pages(path: Path, limits: Limits) -> None:
    """Count pages with pdfium (reads the page tree only) before pdfminer parses anything."""
    try:
        import pypdfium2 as pdfium
    except ImportError:  # pragma: no cover - a dependency; the memory limit still applies
        return
    try:
        doc = pdfium.PdfDocument(str(path))
    except Exception:
        return
    try:
        pages = len(doc)
    finally:
        doc.close()
    if pages > limits.max_pdf_pages:
        raise IngestError(f"PDF has {pages:,} pages, over the limit of "
                          f"{limits.max_pdf_pages:,} pages per file; refused")


# --- 2. running the reader in a child process ---------------------------------------------------

@dataclass
class Outcome:
    """What one isolated run gave: the value, or the one-line reason, and the child's peak
    resident memory in bytes (``ru_maxrss`` of the child and the workers it waited for)."""

    value: Any = None
    error: str | None = None
    peak_rss: int = 0


def _send(fd: int, obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(struct.pack("<Q", len(data)) + data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _vm_size() -> int:
    """This process's mapped address space in bytes (VmSize), 0 if unknown."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _child_setup(limits: Limits, err_fd: int) -> None:
    """In the child: own process group, default signals, die with the parent, limits."""
    os.setpgid(0, 0)
    import faulthandler

    faulthandler.disable()  # a crash is reported by the parent in one line, not a dump
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    # The address space the reader may add to what it inherits (the parent's imports, and in
    # the dashboard the server's own heap) — see Limits.max_reader_memory_bytes.
    cap = _vm_size() + limits.max_reader_memory_bytes
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    cpu = limits.max_seconds_per_file + 5  # backstop: the parent's deadline comes first
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    os.dup2(err_fd, 2)


_ALLOC_FAILED = re.compile(rb"memory allocation of (\d+) bytes failed")


def _reason_from_status(status: int, stderr: bytes, limits: Limits, timed_out: bool) -> str:
    mem = human_bytes(limits.max_reader_memory_bytes)
    if timed_out:
        return (f"took longer than {limits.max_seconds_per_file} s to read; stopped "
                f"(limit {limits.max_seconds_per_file} s per file)")
    alloc = _ALLOC_FAILED.search(stderr)
    if alloc:
        return (f"the reader tried to allocate {human_bytes(int(alloc.group(1)))}, more than "
                f"the {mem} of memory it may use; refused (a hostile or damaged file?)")
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig == signal.SIGXCPU:
            return (f"used more than {limits.max_seconds_per_file} s of processor time; "
                    "stopped")
        if sig == signal.SIGKILL:
            return "the reader was killed (SIGKILL), most likely by the system for lack of memory"
        if sig == signal.SIGABRT:  # C/C++/Rust libraries abort when an allocation fails
            return (f"the reader stopped abnormally (SIGABRT), most often because the file "
                    f"needs more than the {mem} of memory a reader may use; refused (a hostile "
                    "or damaged file?)")
        return f"the reader crashed ({name}); the file is damaged or hostile"
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return f"the reader stopped without a result (exit status {code})"


def run_isolated(func: Callable[..., Any], args: tuple[Any, ...], limits: Limits | None = None,
                 on_page: Callable[[int, int], None] | None = None) -> Outcome:
    """Call ``func(*args, progress)`` in a forked child under ``limits``.

    ``progress(done, total)`` calls in the child reach ``on_page`` here. IngestError in the
    child becomes ``Outcome.error`` as it is; any other failure becomes a one-line reason.
    KeyboardInterrupt here kills the child's whole process group and propagates.
    """
    limits = Limits.resolve(limits)
    if not hasattr(os, "fork"):  # pragma: no cover - not Linux/macOS: no isolation
        try:
            return Outcome(func(*args, on_page))
        except IngestError as exc:
            return Outcome(error=str(exc))
    with tempfile.TemporaryFile() as err:
        return _run_forked(func, args, limits, on_page, err)


_HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def _run_forked(func: Callable[..., Any], args: tuple[Any, ...], limits: Limits,
                on_page: Callable[[int, int], None] | None, err: Any) -> Outcome:
    read_fd, write_fd = os.pipe()
    # A signal arriving inside fork's own hooks (logging's lock release) would be printed as
    # "Exception ignored" with a traceback: hold them until fork has returned, in both.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
    pid = os.fork()
    signal.pthread_sigmask(signal.SIG_SETMASK, held)
    if pid == 0:  # --- the child -----------------------------------------------------------
        code = 0
        try:
            os.close(read_fd)
            _child_setup(limits, err.fileno())

            def progress(done: int, total: int) -> None:
                _send(write_fd, ("page", done, total))

            _send(write_fd, ("ok", func(*args, progress)))
        except IngestError as exc:
            _send(write_fd, ("error", str(exc)))
        except MemoryError:
            with contextlib.suppress(BaseException):
                _send(write_fd, ("memory", ""))
        except BaseException as exc:
            with contextlib.suppress(BaseException):
                _send(write_fd, ("crash", f"{type(exc).__name__}: {exc}"))
            code = 3
        finally:
            os._exit(code)
    # --- the parent ---------------------------------------------------------------------------
    os.close(write_fd)
    outcome = Outcome()
    frame: tuple[Any, ...] | None = None
    timed_out = False
    status: int | None = None
    buf = bytearray()
    deadline = time.monotonic() + limits.max_seconds_per_file
    try:
        while frame is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_fd], [], [], min(remaining, 0.25))
            if ready:
                chunk = os.read(read_fd, 1 << 20)
                if not chunk:
                    break  # the child and everything it started closed the pipe
                buf += chunk
                while len(buf) >= 8:
                    (n,) = struct.unpack_from("<Q", buf)
                    if len(buf) < 8 + n:
                        break
                    msg = pickle.loads(bytes(buf[8:8 + n]))
                    del buf[:8 + n]
                    if msg[0] == "page":
                        if on_page:
                            on_page(msg[1], msg[2])
                    else:
                        frame = msg
                        break
            elif _exited(pid):
                break
        if frame is not None:  # let it exit on its own, briefly, so its usage is complete
            end = time.monotonic() + 2
            while time.monotonic() < end and not _exited(pid):
                time.sleep(0.01)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)  # the child and any page workers it started
        os.close(read_fd)
        _, status, usage = os.wait4(pid, 0)
        outcome.peak_rss = usage.ru_maxrss * 1024
        err.seek(0)
        stderr = err.read(1 << 16)
    if frame is not None and frame[0] == "ok":
        outcome.value = frame[1]
        _echo(stderr)
    elif frame is not None and frame[0] == "error":
        # A reader that wraps every exception (the PDF reader says "damaged PDF ...
        # (MemoryError)") must not hide that the memory limit stopped it.
        outcome.error = (_memory_reason(limits) if frame[1].endswith("(MemoryError)")
                         else frame[1])
    elif frame is not None and frame[0] == "memory":
        outcome.error = _memory_reason(limits)
    elif frame is not None and frame[0] == "crash":
        outcome.error = f"could not be read ({' '.join(str(frame[1]).split())[:300]})"
    else:
        outcome.error = _reason_from_status(status or 0, stderr, limits, timed_out)
    return outcome


def _memory_reason(limits: Limits) -> str:
    return (f"needs more than the {human_bytes(limits.max_reader_memory_bytes)} of memory a "
            "reader may use; refused (a hostile or damaged file?)")


def _exited(pid: int) -> bool:
    """Has the child ended? Leaves it unreaped, so its pid (and group) cannot be reused yet."""
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None


def _echo(stderr: bytes) -> None:
    """Pass on what a successful reader logged (library warnings), as text."""
    if stderr.strip():
        import sys

        sys.stderr.write(stderr.decode("utf-8", "replace"))
