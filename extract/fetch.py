"""``python -m extract fetch``: download the published releases listed by the gov.uk content API.

The publication's JSON (``details.attachments[]``: ``url``, ``filename``, ``title``,
``content_type``, ``file_size``) names every release file. Each register file (PDF, ODS, XLSX,
CSV) is streamed to a temporary file in ``--dest`` and renamed into place only when complete,
so an interrupted run never leaves a half-written release that ingest would then choke on.

``dest/manifest.json`` records, per attachment URL, the file name, sha256, size and the
server's validators (ETag / Last-Modified). A file present with its recorded sha256 is not
downloaded again: the server is asked with a conditional request, which answers 304 unless the
file changed there, and only then is it fetched again.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import http.client
import json
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extract.ingest import sha256_of
from extract.limits import LIMITS, human_bytes
from extract.printable import visible
from extract.values import parse_period

DEFAULT_API = "https://www.gov.uk/api/content/government/publications/dfe-external-data-shares"
ENV_API = "NPD_GOVUK_API"
REGISTER_SUFFIXES = {".pdf", ".ods", ".xlsx", ".xlsm", ".csv"}
TIMEOUT = 30  # seconds per request: gov.uk answers fast; a hang means offline
FILE_DEADLINE = 600  # seconds for one file's body, however steadily it trickles in
RUN_DEADLINE = 3600  # seconds for the whole run; later files are reported, not attempted
CHUNK = 1 << 16
USER_AGENT = "npd-shares-fetch/1.0 (python urllib)"
MANIFEST = "manifest.json"


class FetchError(Exception):
    """A one-line reason a URL could not be fetched."""


@dataclass
class Attachment:
    url: str
    filename: str
    title: str
    content_type: str | None
    file_size: int | None
    publication: str


def cli_fetch(args: argparse.Namespace) -> int:
    """Fetch every release attachment into ``args.dest``; 0 if all are present, else 1."""
    dest = Path(args.dest)
    deadline = time.monotonic() + float(getattr(args, "deadline", None) or RUN_DEADLINE)
    apis = [args.api_url or os.environ.get(ENV_API) or DEFAULT_API, *(args.archive or [])]
    attachments: list[Attachment] = []
    for api in apis:
        try:
            attachments.extend(list_attachments(api))
        except FetchError as exc:
            print(f"error: {visible(api)}: {exc}", file=sys.stderr)
            return 1
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"error: {visible(dest)}: cannot create folder ({exc.strerror or exc})",
              file=sys.stderr)
        return 1
    manifest = load_manifest(dest)
    counts = {"downloaded": 0, "updated": 0, "already present": 0, "failed": 0}
    seen: set[str] = set()
    listed = {a.url for a in attachments}
    for att in attachments:
        if att.url in seen:  # an archived publication can list the same file again
            continue
        seen.add(att.url)
        name = att.filename
        replaced = _replaced_url(att, manifest, apis, listed)
        old_entry = manifest.pop(replaced) if replaced else None
        if old_entry:  # the publisher swapped the file: the new URL takes over its name
            manifest[att.url] = {**old_entry, "etag": None, "last_modified": None}
        try:
            name = _unique_name(att, manifest)
            if time.monotonic() > deadline:
                raise FetchError("not attempted: the run's deadline passed "
                                 f"({getattr(args, 'deadline', None) or RUN_DEADLINE:g} s)")
            status, entry = fetch_one(att, name, dest, manifest.get(att.url), deadline)
            manifest[att.url] = entry
            save_manifest(dest, manifest)
        except Exception as exc:  # one bad entry never aborts the run
            counts["failed"] += 1
            reason = str(exc) if isinstance(exc, FetchError) else (
                f"{type(exc).__name__}: {_reason(exc)}")
            print(f"error: {visible(name)}: {visible(reason)}", file=sys.stderr)
            manifest.pop(att.url, None)
            if replaced and old_entry:
                manifest[replaced] = old_entry
            continue
        counts[status] += 1
        size = f" ({_human(entry['size'])})" if status != "already present" else ""
        print(f"{status}: {visible(name)}{size}")
    done = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    print(f"{len(seen)} files from {len(apis)} publication(s): {done or 'nothing to do'}; "
          f"folder {visible(dest)}")
    return 1 if counts["failed"] else 0


# --- the publication API ------------------------------------------------------------------------

def list_attachments(api_url: str) -> list[Attachment]:
    """The register files a gov.uk publication lists. Raises FetchError with the reason."""
    try:
        with _open(api_url, {"Accept": "application/json"}) as resp:
            body = resp.read(50 * 1024 * 1024)
    except urllib.error.HTTPError as exc:
        raise FetchError(f"HTTP {exc.code} {exc.reason}") from exc
    except OSError as exc:  # connection dropped or timed out while reading
        raise FetchError(f"connection lost while reading the response: {_reason(exc)}") from exc
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FetchError("the response is not JSON (is this a gov.uk content API URL?)") from exc
    details = doc.get("details") if isinstance(doc, dict) else None
    items = details.get("attachments") if isinstance(details, dict) else None
    if not isinstance(items, list):
        raise FetchError("the response has no details.attachments list "
                         "(not a gov.uk publication content item)")
    out: list[Attachment] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            continue
        if item.get("attachment_type", "file") != "file":
            continue  # HTML publications and external links are not release files
        url = urllib.parse.urljoin(api_url, item["url"])
        filename = _safe_filename(str(item.get("filename") or _url_basename(url)))
        if Path(filename).suffix.lower() not in REGISTER_SUFFIXES:
            continue
        size = item.get("file_size")
        out.append(Attachment(url, filename, str(item.get("title") or filename),
                              item.get("content_type"), size if isinstance(size, int) else None,
                              api_url))
    if not out:
        raise FetchError("the publication lists no PDF, ODS, XLSX or CSV attachments")
    return out


def _url_basename(url: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])


def _safe_filename(name: str) -> str:
    """A plain file name: no folders, no control or shell-hostile characters."""
    name = Path(name.replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f<>:\"|?*]", "_", name).strip(" .")
    return name or "attachment"


def _replaced_url(att: Attachment, manifest: dict[str, dict[str, Any]], apis: list[str],
                  listed: set[str]) -> str | None:
    """The URL of a file this attachment replaces: same file name, fetched from a publication
    read in this run, and no longer listed by it (gov.uk gives a replaced file a new URL)."""
    if att.url in manifest:
        return None
    for url, entry in manifest.items():
        if (str(entry.get("filename", "")).casefold() == att.filename.casefold()
                and entry.get("publication") in apis and url not in listed):
            return url
    return None


def _unique_name(att: Attachment, manifest: dict[str, dict[str, Any]]) -> str:
    """The file name to save as. Releases are keyed by file name in the database, so two URLs
    publishing the same name (a re-used name across quarters) get the period in the name."""
    entry = manifest.get(att.url)
    if entry:
        return str(entry["filename"])
    taken = {str(e["filename"]).casefold() for u, e in manifest.items() if u != att.url}
    if att.filename.casefold() not in taken:
        return att.filename
    stem, suffix = Path(att.filename).stem, Path(att.filename).suffix
    period = parse_period(att.title)
    base = f"{stem} ({period[0]})" if period else stem
    name, n = f"{base}{suffix}", 2
    while name.casefold() in taken:
        name, n = f"{base} ({n}){suffix}", n + 1
    return name


# --- downloading --------------------------------------------------------------------------------

def fetch_one(att: Attachment, name: str, dest: Path, entry: dict[str, Any] | None,
              deadline: float | None = None) -> tuple[str, dict[str, Any]]:
    """Download one attachment unless present and unchanged; returns (status, manifest entry).

    The body goes to a temporary name and is renamed into place only when complete: as long
    as ``Content-Length`` says (or, without one, as long as the publication lists), never
    longer than :attr:`Limits.max_file_bytes`, within the per-file and the run's deadline.
    A file in ``dest`` that fetch did not write is never overwritten.
    """
    target = dest / name
    present = (entry is not None and target.is_file()
               and entry.get("size") == target.stat().st_size
               and entry.get("sha256") == sha256_of(target))
    # A file of this name that fetch did not write (not in the manifest) is the user's.
    foreign = entry is None and (target.exists() or target.is_symlink())
    headers: dict[str, str] = {}
    if present and entry is not None:
        if entry.get("etag"):
            headers["If-None-Match"] = entry["etag"]
        if entry.get("last_modified"):
            headers["If-Modified-Since"] = entry["last_modified"]
    try:
        resp_cm = _open(att.url, headers)
    except urllib.error.HTTPError as exc:
        if exc.code == 304 and present and entry is not None:
            return "already present", entry
        raise FetchError(f"HTTP {exc.code} {exc.reason} for {att.url}") from exc
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=dest)
    tmp = Path(tmp_name)
    try:
        with resp_cm as resp, os.fdopen(fd, "wb") as out:
            etag, modified = resp.headers.get("ETag"), resp.headers.get("Last-Modified")
            sha, size = _download(resp, out, att, deadline)
        if present and entry is not None and sha == entry.get("sha256"):
            status = "already present"  # server sent it again, but it is the same file
            tmp.unlink()
        elif foreign:
            if not (target.is_file() and not target.is_symlink() and sha == sha256_of(target)):
                raise FetchError(f"{dest / name} exists and was not downloaded by fetch (it is "
                                 "not in manifest.json); not overwritten: move it or use "
                                 "another --dest")
            status = "already present"  # the user's copy is byte-identical: adopt it
            tmp.unlink()
        else:
            status = "updated" if target.exists() else "downloaded"
            os.replace(tmp, target)
    except (OSError, urllib.error.URLError, http.client.HTTPException) as exc:
        raise FetchError(f"download failed ({_reason(exc)}); nothing kept") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return status, {
        "filename": name, "sha256": sha, "size": size, "title": att.title,
        "content_type": att.content_type, "etag": etag, "last_modified": modified,
        "publication": att.publication,
        "fetched_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }


def _download(resp: Any, out: Any, att: Attachment, deadline: float | None
              ) -> tuple[str, int]:
    """Copy the body to ``out``; (sha256, size). Raises FetchError when the body is cut short,
    longer than declared or than the limit, or slower than the deadline."""
    limit = LIMITS.max_file_bytes
    declared_raw = resp.headers.get("Content-Length")
    declared: int | None = None
    if declared_raw is not None:
        try:
            declared = int(declared_raw)
        except ValueError:
            raise FetchError(f"invalid Content-Length {declared_raw[:40]!r}") from None
        if declared > limit:
            raise FetchError(f"the server declares {_human(declared)}, over the limit of "
                             f"{human_bytes(limit)} per file; not downloaded")
    # Without Content-Length the publication's listed size bounds the body (with slack for
    # a listing that lags a republished file), and a body that differs from it is suspect.
    cap = declared if declared is not None else limit
    if declared is None and att.file_size:
        cap = min(limit, max(2 * att.file_size, att.file_size + (1 << 20)))
    file_deadline = time.monotonic() + FILE_DEADLINE
    end = min(file_deadline, deadline) if deadline else file_deadline
    h, size = hashlib.sha256(), 0
    # read1: return what one recv brings, so a body trickling in still meets the deadline.
    while chunk := resp.read1(CHUNK):
        size += len(chunk)
        if size > cap:
            raise FetchError(
                f"the server sent more than {_human(cap)}"
                + (" (its Content-Length)" if declared is not None
                   else f" (listed as {_human(att.file_size)})" if att.file_size
                   else f", the limit of {human_bytes(limit)} per file") + "; nothing kept")
        h.update(chunk)
        out.write(chunk)
        if time.monotonic() > end:
            raise FetchError(f"download took longer than {FILE_DEADLINE} s "
                             "and was stopped; nothing kept"
                             if end == file_deadline else
                             "the run's deadline passed during the download; nothing kept")
    if declared is not None and size != declared:
        raise FetchError(f"incomplete download: {_human(size)} of the {_human(declared)} "
                         "declared (connection closed early); nothing kept")
    if declared is None and att.file_size and size != att.file_size:
        raise FetchError(f"download is {_human(size)} but the publication lists "
                         f"{_human(att.file_size)} (connection closed early?); nothing kept")
    return h.hexdigest(), size


class _SafeRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s), and never from https down to plain http."""

    def http_error_302(self, req: Any, fp: Any, code: int, msg: str, headers: Any) -> Any:
        location = headers.get("location") or headers.get("uri")
        if location:
            newurl = urllib.parse.urljoin(req.full_url, location)
            old = urllib.parse.urlsplit(req.full_url).scheme
            new = urllib.parse.urlsplit(newurl).scheme.lower()
            if new not in ("http", "https") or (old == "https" and new == "http"):
                raise FetchError(f"refused a redirect from {old}:// to {visible(newurl[:120])}")
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


_OPENER = urllib.request.build_opener(_SafeRedirects)


def _open(url: str, headers: dict[str, str]) -> Any:
    """urlopen with a timeout and a clear FetchError when the host cannot be reached.

    HTTPError (the server answered) is left to the caller, which knows what 304 means.
    """
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise FetchError(f"not an http(s) URL: {url}")
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers})
    try:
        return _OPENER.open(req, timeout=TIMEOUT)
    except urllib.error.HTTPError:
        raise
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise FetchError(f"cannot reach the server (offline?): {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
    return " ".join(str(reason).split())[:160]




def _human(n: int) -> str:
    if n < 1000:
        return f"{n} bytes"
    return f"{n / 1000:.1f} kB" if n < 1_000_000 else f"{n / 1_000_000:.1f} MB"


# --- manifest -----------------------------------------------------------------------------------

_PROVENANCE_CACHE: dict[tuple[str, int, int], dict[str, Any] | None] = {}


def provenance_for(path: Path) -> dict[str, Any] | None:
    """Where a release file came from, if ``python -m extract fetch`` downloaded it.

    Returns ``{"url", "retrieved", "sha256", "size"}`` from the ``manifest.json`` in the file's
    folder, or None when the folder has no manifest, the manifest does not list the file, or
    the file on disk is no longer the one downloaded (its size or sha256 differ): provenance
    printed on an export must describe the bytes that were read, not a file of the same name.
    Cached by (path, size, mtime), so page footers can call it on every render.
    """
    try:
        st = path.stat()
    except OSError:
        return None
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key in _PROVENANCE_CACHE:
        return _PROVENANCE_CACHE[key]
    out: dict[str, Any] | None = None
    for url, entry in load_manifest(path.parent).items():
        if entry.get("filename") != path.name:
            continue
        if entry.get("size") != st.st_size:
            break
        try:
            same = entry.get("sha256") == sha256_of(path)
        except OSError:
            same = False
        if same:
            out = {"url": url, "retrieved": entry.get("fetched_at"),
                   "sha256": entry["sha256"], "size": st.st_size}
        break
    _PROVENANCE_CACHE[key] = out
    return out


def load_manifest(dest: Path) -> dict[str, dict[str, Any]]:
    """URL -> entry. A missing or unreadable manifest means nothing is known to be present."""
    path = dest / MANIFEST
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, dict):
        return {}
    return {u: e for u, e in files.items() if isinstance(u, str) and _valid_entry(e)}


def _valid_entry(entry: object) -> bool:
    """A manifest entry is trusted exactly as far as an API answer: its file name must be what
    :func:`_safe_filename` would make of it (no folders, no ``..``, no control characters) and
    a register file, or the entry is ignored (and its file, if any, left alone)."""
    if not isinstance(entry, dict):
        return False
    name = entry.get("filename")
    return (isinstance(name, str) and name == _safe_filename(name)
            and not name.startswith(".") and Path(name).suffix.lower() in REGISTER_SUFFIXES
            and (entry.get("size") is None or isinstance(entry.get("size"), int)))


def save_manifest(dest: Path, manifest: dict[str, dict[str, Any]]) -> None:
    """Write atomically, so an interrupted fetch never leaves a truncated manifest."""
    doc = {"about": "Files downloaded by `python -m extract fetch`: attachment URL -> file.",
           "files": dict(sorted(manifest.items()))}
    fd, tmp = tempfile.mkstemp(prefix=".manifest.", suffix=".tmp", dir=dest)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2, sort_keys=False)
            fh.write("\n")
        os.replace(tmp, dest / MANIFEST)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
