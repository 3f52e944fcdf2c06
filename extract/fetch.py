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
import json
import os
import re
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extract.ingest import sha256_of
from extract.values import parse_period

DEFAULT_API = "https://www.gov.uk/api/content/government/publications/dfe-external-data-shares"
ENV_API = "NPD_GOVUK_API"
REGISTER_SUFFIXES = {".pdf", ".ods", ".xlsx", ".xlsm", ".csv"}
TIMEOUT = 30  # seconds per request: gov.uk answers fast; a hang means offline
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
    apis = [args.api_url or os.environ.get(ENV_API) or DEFAULT_API, *(args.archive or [])]
    attachments: list[Attachment] = []
    for api in apis:
        try:
            attachments.extend(list_attachments(api))
        except FetchError as exc:
            print(f"error: {api}: {exc}", file=sys.stderr)
            return 1
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"error: {dest}: cannot create folder ({exc.strerror or exc})", file=sys.stderr)
        return 1
    manifest = load_manifest(dest)
    counts = {"downloaded": 0, "updated": 0, "already present": 0, "failed": 0}
    seen: set[str] = set()
    listed = {a.url for a in attachments}
    for att in attachments:
        if att.url in seen:  # an archived publication can list the same file again
            continue
        seen.add(att.url)
        replaced = _replaced_url(att, manifest, apis, listed)
        old_entry = manifest.pop(replaced) if replaced else None
        if old_entry:  # the publisher swapped the file: the new URL takes over its name
            manifest[att.url] = {**old_entry, "etag": None, "last_modified": None}
        name = _unique_name(att, manifest)
        try:
            status, entry = fetch_one(att, name, dest, manifest.get(att.url))
        except FetchError as exc:
            counts["failed"] += 1
            print(f"error: {name}: {exc}", file=sys.stderr)
            if replaced and old_entry:
                del manifest[att.url]
                manifest[replaced] = old_entry
            continue
        manifest[att.url] = entry
        save_manifest(dest, manifest)
        counts[status] += 1
        size = f" ({_human(entry['size'])})" if status != "already present" else ""
        print(f"{status}: {name}{size}")
    done = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    print(f"{len(seen)} files from {len(apis)} publication(s): {done or 'nothing to do'}; "
          f"folder {dest}")
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

def fetch_one(att: Attachment, name: str, dest: Path, entry: dict[str, Any] | None
              ) -> tuple[str, dict[str, Any]]:
    """Download one attachment unless present and unchanged; returns (status, manifest entry)."""
    target = dest / name
    present = (entry is not None and target.is_file()
               and entry.get("sha256") == sha256_of(target))
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
        h, size = hashlib.sha256(), 0
        with resp_cm as resp, os.fdopen(fd, "wb") as out:
            etag, modified = resp.headers.get("ETag"), resp.headers.get("Last-Modified")
            while chunk := resp.read(CHUNK):
                h.update(chunk)
                out.write(chunk)
                size += len(chunk)
        sha = h.hexdigest()
        if present and entry is not None and sha == entry.get("sha256"):
            status = "already present"  # server sent it again, but it is the same file
            tmp.unlink()
        else:
            status = "updated" if target.exists() else "downloaded"
            os.replace(tmp, target)
    except (OSError, urllib.error.URLError) as exc:
        raise FetchError(f"download failed ({_reason(exc)})") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return status, {
        "filename": name, "sha256": sha, "size": size, "title": att.title,
        "content_type": att.content_type, "etag": etag, "last_modified": modified,
        "publication": att.publication,
        "fetched_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }


def _open(url: str, headers: dict[str, str]) -> Any:
    """urlopen with a timeout and a clear FetchError when the host cannot be reached.

    HTTPError (the server answered) is left to the caller, which knows what 304 means.
    """
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise FetchError(f"not an http(s) URL: {url}")
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers})
    try:
        return urllib.request.urlopen(req, timeout=TIMEOUT)
    except urllib.error.HTTPError:
        raise
    except (urllib.error.URLError, OSError) as exc:
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
    return {u: e for u, e in files.items()
            if isinstance(e, dict) and isinstance(e.get("filename"), str)}


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
