"""``python -m extract fetch`` against a local http.server replaying a recorded gov.uk response.

The server serves tests/data/govuk/publication.json (gov.uk asset and www hosts rewritten to
the server) and the attachment files from a per-test copy, so a test can change a "remote"
file. It records every request, so "downloaded nothing" is checked on the wire.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from extract.fetch import Attachment, _unique_name, cli_fetch
from extract.sheets import read_spreadsheet

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "govuk"
API_PATH = "/api/content/government/publications/dfe-external-data-shares"
ODS = "DfE_external_data_shares_June_2023.ods"
CSV = "DfE_external_data_shares_June_2023_DSAP.csv"


class Remote:
    """A fake gov.uk: content API + asset host on one local port."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[tuple[str, int]] = []  # (path, status)
        self.api_body: bytes | None = None  # override the API response
        # file name -> handler(request handler) replacing the normal file response, for a
        # server that truncates, lies about lengths, redirects or never stops.
        self.custom: dict[str, Callable[[SimpleHTTPRequestHandler], None]] = {}
        remote = self

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw) -> None:  # type: ignore[no-untyped-def]
                super().__init__(*a, directory=str(remote.root), **kw)

            def do_GET(self) -> None:
                if self.path.startswith("/api/content/"):
                    body = remote.api_body if remote.api_body is not None else remote.api()
                    if self.path != API_PATH and remote.api_body is None:
                        self.send_error(404)
                        return
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                custom = remote.custom.get(self.path.split("?")[0].rsplit("/", 1)[-1])
                if custom is not None:
                    custom(self)
                    return
                super().do_GET()

            def translate_path(self, path: str) -> str:
                # /media/<asset id>/<file name> -> <root>/<file name>
                return str(remote.root / path.split("?")[0].rsplit("/", 1)[-1])

            def log_request(self, code: object = "-", size: object = "-") -> None:
                remote.requests.append((self.path, int(getattr(code, "value", code))))

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def api(self) -> bytes:
        text = (DATA / "publication.json").read_text(encoding="utf-8")
        text = text.replace("https://assets.publishing.service.gov.uk", self.base)
        return text.replace("https://www.gov.uk", self.base).encode()

    @property
    def api_url(self) -> str:
        return self.base + API_PATH

    def media_gets(self, status: int | None = None) -> list[str]:
        return [p for p, s in self.requests
                if p.startswith("/media/") and (status is None or s == status)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[Remote]:
    root = tmp_path / "remote"
    root.mkdir()
    for name in (ODS, CSV):
        shutil.copy2(DATA / name, root / name)
    r = Remote(root)
    yield r
    r.close()


def _run(remote_url: str | None, dest: Path, *archive: str) -> int:
    return cli_fetch(argparse.Namespace(dest=str(dest), api_url=remote_url, archive=list(archive)))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_first_fetch_downloads_files_and_writes_manifest(
        remote: Remote, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "releases"
    assert _run(remote.api_url, dest) == 0
    out = capsys.readouterr().out
    assert f"downloaded: {ODS} (2.7 kB)" in out and f"downloaded: {CSV} (395 bytes)" in out
    assert "2 files from 1 publication(s): 2 downloaded" in out
    assert sorted(p.name for p in dest.iterdir()) == sorted([ODS, CSV, "manifest.json"])
    for name in (ODS, CSV):
        assert (dest / name).read_bytes() == (DATA / name).read_bytes()
    manifest = json.loads((dest / "manifest.json").read_text())["files"]
    by_name = {e["filename"]: (u, e) for u, e in manifest.items()}
    url, entry = by_name[ODS]
    assert url == f"{remote.base}/media/64c8b1f2d8b1a70012345678/{ODS}"
    assert entry["sha256"] == _sha(DATA / ODS) and entry["size"] == (DATA / ODS).stat().st_size
    assert entry["title"] == "DfE external data shares: June 2023"
    assert entry["last_modified"]  # validator kept for the conditional re-check
    # The HTML attachment is not a release file: never requested.
    assert not [p for p, _ in remote.requests if "how-dfe-shares" in p]
    # What was fetched is a readable release.
    parsed = read_spreadsheet(dest / ODS)
    assert [t.section for t in parsed.tables] == ["legend", "dsap", "home_office"]


def test_second_fetch_downloads_nothing(remote: Remote, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "releases"
    assert _run(remote.api_url, dest) == 0
    manifest_before = (dest / "manifest.json").read_bytes()
    remote.requests.clear()
    capsys.readouterr()
    assert _run(remote.api_url, dest) == 0
    out = capsys.readouterr().out
    assert f"already present: {ODS}" in out and f"already present: {CSV}" in out
    assert "2 already present" in out
    assert remote.media_gets(200) == []  # only conditional requests, answered 304
    assert len(remote.media_gets(304)) == 2
    assert (dest / "manifest.json").read_bytes() == manifest_before


def test_changed_remote_file_is_fetched_again(remote: Remote, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "releases"
    assert _run(remote.api_url, dest) == 0
    changed = (DATA / CSV).read_text(encoding="utf-8-sig").replace("FFT Aspire", "FFT Aspire 2")
    (remote.root / CSV).write_text(changed, encoding="utf-8-sig")
    later = (remote.root / CSV).stat().st_mtime + 60
    os.utime(remote.root / CSV, (later, later))
    remote.requests.clear()
    capsys.readouterr()
    assert _run(remote.api_url, dest) == 0
    out = capsys.readouterr().out
    assert f"updated: {CSV}" in out and f"already present: {ODS}" in out
    assert (dest / CSV).read_bytes() == (remote.root / CSV).read_bytes()
    assert remote.media_gets(200) == [f"/media/64c8b1f2d8b1a70012345679/{CSV}"]
    entry = next(e for e in json.loads((dest / "manifest.json").read_text())["files"].values()
                 if e["filename"] == CSV)
    assert entry["sha256"] == _sha(remote.root / CSV)
    assert not [p for p in dest.iterdir() if p.name.startswith(".")]  # no temp files left


def test_file_replaced_under_a_new_url_keeps_its_name(remote: Remote, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """gov.uk gives a replaced attachment a new asset URL: the new file takes over the old
    name (one release, updated), not a second copy beside it."""
    dest = tmp_path / "releases"
    assert _run(remote.api_url, dest) == 0
    changed = (DATA / CSV).read_text(encoding="utf-8-sig").replace("Approved", "Approved*")
    (remote.root / CSV).write_text(changed, encoding="utf-8-sig")
    remote.api_body = remote.api().replace(b"64c8b1f2d8b1a70012345679", b"651a0c7e2ea5f0000d3e9b1a")
    capsys.readouterr()
    assert _run(remote.api_url, dest) == 0
    out = capsys.readouterr().out
    assert f"updated: {CSV}" in out
    assert sorted(p.name for p in dest.iterdir()) == sorted([ODS, CSV, "manifest.json"])
    assert (dest / CSV).read_text(encoding="utf-8-sig") == changed
    urls = [u for u, e in json.loads((dest / "manifest.json").read_text())["files"].items()
            if e["filename"] == CSV]
    assert urls == [f"{remote.base}/media/651a0c7e2ea5f0000d3e9b1a/{CSV}"]


def test_missing_or_edited_local_file_is_fetched_again(remote: Remote, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "releases"
    assert _run(remote.api_url, dest) == 0
    (dest / ODS).unlink()
    (dest / CSV).write_text("edited by hand", encoding="utf-8")
    capsys.readouterr()
    assert _run(remote.api_url, dest) == 0
    out = capsys.readouterr().out
    assert f"downloaded: {ODS}" in out and f"updated: {CSV}" in out
    assert (dest / CSV).read_bytes() == (DATA / CSV).read_bytes()


def test_unreachable_server_is_one_clean_error(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}{API_PATH}"
    dest = tmp_path / "releases"
    assert _run(url, dest) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {url}: cannot reach the server")
    assert not dest.exists()


@pytest.mark.parametrize(("body", "reason"), [
    (b"<!DOCTYPE html><html><body>Page not found</body></html>", "not JSON"),
    (b'{"title": "DfE external data shares", "details": {"body": "<p>x</p>"}}',
     "no details.attachments"),
    (b'{"details": {"attachments": [{"attachment_type": "html", "url": "/x"}]}}',
     "no PDF, ODS, XLSX or CSV attachments"),
])
def test_unexpected_api_response_is_one_clean_error(
        body: bytes, reason: str, remote: Remote, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    remote.api_body = body
    assert _run(remote.api_url, tmp_path / "releases") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {remote.api_url}: ") and reason in err[0]


def test_missing_attachment_fails_alone(remote: Remote, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    (remote.root / CSV).unlink()
    dest = tmp_path / "releases"
    assert _run(remote.api_url, dest) == 1
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [
        f"error: {CSV}: HTTP 404 File not found for "
        f"{remote.base}/media/64c8b1f2d8b1a70012345679/{CSV}"]
    assert f"downloaded: {ODS}" in captured.out and "1 failed" in captured.out
    assert (dest / ODS).is_file() and not (dest / CSV).exists()


def test_api_url_from_environment_and_archive_urls(remote: Remote, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NPD_GOVUK_API", remote.api_url)
    dest = tmp_path / "releases"
    # The archive URL lists the same attachments again: each file is fetched once.
    assert _run(None, dest, remote.api_url) == 0
    out = capsys.readouterr().out
    assert "2 files from 2 publication(s): 2 downloaded" in out
    assert len(remote.media_gets(200)) == 2


def test_same_file_name_from_two_urls_gets_the_period() -> None:
    first = Attachment("https://a/1/shares.ods", "shares.ods", "DfE external data shares: "
                       "March 2023", None, None, "api")
    second = Attachment("https://a/2/shares.ods", "shares.ods", "DfE external data shares: "
                        "June 2023", None, None, "api")
    manifest = {first.url: {"filename": "shares.ods"}}
    assert _unique_name(first, manifest) == "shares.ods"
    assert _unique_name(second, manifest) == "shares (June 2023).ods"
    manifest[second.url] = {"filename": "shares (June 2023).ods"}
    third = Attachment("https://a/3/shares.ods", "shares.ods", "DfE external data shares: "
                       "June 2023 (corrected)", None, None, "api")
    assert _unique_name(third, manifest) == "shares (June 2023) (2).ods"


def test_cli_fetch_subcommand(remote: Remote, tmp_path: Path) -> None:
    dest = tmp_path / "releases"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "extract", "fetch", "--dest", str(dest),
                           "--api-url", remote.api_url], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"downloaded: {ODS}" in proc.stdout
    assert (dest / CSV).read_bytes() == (DATA / CSV).read_bytes()


def test_provenance_for_a_fetched_file_and_none_once_it_changes(remote: Remote,
                                                                tmp_path: Path) -> None:
    from extract.fetch import provenance_for

    dest = tmp_path / "releases"
    assert _run(remote.api_url, dest) == 0
    prov = provenance_for(dest / CSV)
    assert prov is not None
    assert prov["url"].endswith(f"/{CSV}") and prov["sha256"] == _sha(DATA / CSV)
    assert prov["size"] == (DATA / CSV).stat().st_size and prov["retrieved"]
    # A user's own file beside the downloads, and an edited download, have no provenance.
    (dest / "mine.csv").write_text("a,b\n")
    assert provenance_for(dest / "mine.csv") is None
    (dest / CSV).write_bytes((DATA / CSV).read_bytes() + b"x")
    assert provenance_for(dest / CSV) is None


# --- a hostile or broken server (issue 13, items 1, 6 and 7) ------------------------------------

def _send(handler: SimpleHTTPRequestHandler, body: bytes, length: int | None,
          status: int = 200, extra: dict[str, str] | None = None) -> None:
    """Answer with ``body`` and (unless None) a Content-Length of ``length``, then hang up."""
    handler.send_response(status)
    if length is not None:
        handler.send_header("Content-Length", str(length))
    for k, v in (extra or {}).items():
        handler.send_header(k, v)
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.write(body)
    handler.wfile.flush()
    handler.close_connection = True


def _only_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def _no_temp_files(dest: Path) -> bool:
    return not [p for p in dest.iterdir() if p.name.startswith(".")]


def test_truncated_download_is_not_kept_and_is_fetched_again_next_time(
        remote: Remote, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The connection drops half way through a body whose Content-Length was announced."""
    full = (DATA / CSV).read_bytes()
    remote.custom[CSV] = lambda h: _send(h, full[:200], len(full))
    dest = tmp_path / "releases"
    assert _run(remote.api_url, dest) == 1
    captured = capsys.readouterr()
    line = _only_error(captured.err)
    assert line.startswith(f"error: {CSV}: incomplete download: 200 bytes of the 395 bytes")
    assert f"downloaded: {ODS}" in captured.out  # the good file of the run is kept
    assert not (dest / CSV).exists() and _no_temp_files(dest)
    names = [e["filename"] for e in json.loads((dest / "manifest.json").read_text())
             ["files"].values()]
    assert names == [ODS]  # the truncated file's hash never reaches the manifest
    remote.custom.clear()  # the server recovers: the next run completes the set
    assert _run(remote.api_url, dest) == 0
    assert (dest / CSV).read_bytes() == full


def test_truncated_download_without_content_length_is_caught_by_the_listed_size(
        remote: Remote, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    full = (DATA / CSV).read_bytes()
    remote.custom[CSV] = lambda h: _send(h, full[:204], None)
    dest = tmp_path / "releases"
    assert _run(remote.api_url, dest) == 1
    line = _only_error(capsys.readouterr().err)
    assert line == (f"error: {CSV}: download is 204 bytes but the publication lists 395 bytes "
                    "(connection closed early?); nothing kept")
    assert not (dest / CSV).exists() and _no_temp_files(dest)


def test_endless_body_is_cut_at_the_listed_size(remote: Remote, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A server streaming forever for a file listed at 395 bytes: stopped near 1 MiB."""
    sent = []

    def forever(h: SimpleHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Connection", "close")
        h.end_headers()
        chunk = b"x" * 65536
        try:
            for _ in range(4096):  # 256 MiB at most: the test is bounded even if fetch is not
                h.wfile.write(chunk)
                sent.append(len(chunk))
        except OSError:
            pass  # the client hung up, as it should
        h.close_connection = True

    remote.custom[CSV] = forever
    dest = tmp_path / "releases"
    assert _run(remote.api_url, dest) == 1
    line = _only_error(capsys.readouterr().err)
    assert line.startswith(f"error: {CSV}: the server sent more than 1.0 MB (listed as 395 bytes)")
    assert sum(sent) < 64 << 20
    assert not (dest / CSV).exists() and _no_temp_files(dest)


def test_declared_body_over_the_size_limit_is_not_downloaded(
        remote: Remote, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    remote.custom[CSV] = lambda h: _send(h, b"", 2 << 30)
    dest = tmp_path / "releases"
    assert _run(remote.api_url, dest) == 1
    line = _only_error(capsys.readouterr().err)
    assert line == (f"error: {CSV}: the server declares 2147.5 MB, over the limit of 256 MiB "
                    "per file; not downloaded")
    assert not (dest / CSV).exists() and _no_temp_files(dest)


@pytest.mark.parametrize("location", ["ftp://127.0.0.1/etc/passwd", "file:///etc/passwd"])
def test_redirect_to_another_scheme_is_refused(location: str, remote: Remote, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    remote.custom[CSV] = lambda h: _send(h, b"", 0, 302, {"Location": location})
    dest = tmp_path / "releases"
    assert _run(remote.api_url, dest) == 1
    captured = capsys.readouterr()
    assert _only_error(captured.err) == (
        f"error: {CSV}: refused a redirect from http:// to {location}")
    assert f"downloaded: {ODS}" in captured.out and not (dest / CSV).exists()


def test_http_redirect_is_followed(remote: Remote, tmp_path: Path) -> None:
    remote.custom[CSV] = lambda h: _send(h, b"", 0, 302, {"Location": f"/media/x/{ODS}x"})
    remote.custom[ODS + "x"] = lambda h: _send(h, (DATA / CSV).read_bytes(), 395)
    assert _run(remote.api_url, tmp_path / "releases") == 0
    assert (tmp_path / "releases" / CSV).read_bytes() == (DATA / CSV).read_bytes()


def test_run_deadline_stops_a_trickling_body(remote: Remote, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A server sending a few bytes at a time never trips the socket's idle timeout; the
    run's deadline stops it, and the files after it are reported, not attempted."""
    stop = threading.Event()

    def trickle(h: SimpleHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "395")
        h.end_headers()
        try:
            for _ in range(390):
                if stop.wait(0.05):
                    break
                h.wfile.write(b"x")
                h.wfile.flush()
        except OSError:
            pass
        h.close_connection = True

    remote.custom[ODS] = trickle  # listed first
    dest = tmp_path / "releases"
    args = argparse.Namespace(dest=str(dest), api_url=remote.api_url, archive=[], deadline=1)
    try:
        assert cli_fetch(args) == 1
    finally:
        stop.set()
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: {ODS}: the run's deadline passed during the download; nothing kept",
        f"error: {CSV}: not attempted: the run's deadline passed (1 s)"]
    assert not (dest / ODS).exists() and _no_temp_files(dest)


def test_one_bad_entry_does_not_abort_the_run(remote: Remote, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """An unexpected failure on one file (here a bug stand-in: ValueError) is that file's
    error line; the other files are still fetched."""
    import extract.fetch as fetch

    real = fetch.fetch_one

    def flaky(att, name, *a, **kw):  # type: ignore[no-untyped-def]
        if name == ODS:
            raise ValueError("unexpected value in the response")
        return real(att, name, *a, **kw)

    monkeypatch.setattr(fetch, "fetch_one", flaky)
    dest = tmp_path / "releases"
    assert _run(remote.api_url, dest) == 1
    captured = capsys.readouterr()
    assert _only_error(captured.err) == (
        f"error: {ODS}: ValueError: unexpected value in the response")
    assert f"downloaded: {CSV}" in captured.out and "1 downloaded, 1 failed" in captured.out


def test_users_own_file_of_the_same_name_is_never_overwritten(
        remote: Remote, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "releases"
    dest.mkdir()
    (dest / CSV).write_text("my own notes, not the release\n", encoding="utf-8")
    assert _run(remote.api_url, dest) == 1
    captured = capsys.readouterr()
    line = _only_error(captured.err)
    assert line.startswith(f"error: {CSV}: {dest / CSV} exists and was not downloaded by fetch")
    assert "not overwritten" in line
    assert (dest / CSV).read_text(encoding="utf-8") == "my own notes, not the release\n"
    assert f"downloaded: {ODS}" in captured.out and _no_temp_files(dest)
    # A byte-identical copy the user put there is adopted, not downloaded over.
    shutil.copy2(DATA / CSV, dest / CSV)
    assert _run(remote.api_url, dest) == 0
    assert f"already present: {CSV}" in capsys.readouterr().out
    manifest = json.loads((dest / "manifest.json").read_text())["files"]
    assert sorted(e["filename"] for e in manifest.values()) == sorted([ODS, CSV])


@pytest.mark.parametrize("evil", ["../outside.csv", "/tmp/npd-fetch-abs.csv",
                                  "sub/../../outside.csv", "..", "bad\nname.csv",
                                  "manifest.json"])
def test_tampered_manifest_paths_are_not_trusted(evil: str, remote: Remote, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A manifest.json edited to point a URL at a path outside --dest is ignored for that
    entry: fetch writes only inside --dest, under the name the API gives."""
    dest = tmp_path / "box" / "releases"
    assert _run(remote.api_url, dest) == 0
    path = dest / "manifest.json"
    doc = json.loads(path.read_text())
    for entry in doc["files"].values():
        if entry["filename"] == CSV:
            entry["filename"] = evil
            entry["sha256"] = "0" * 64  # so fetch believes the file needs writing
    path.write_text(json.dumps(doc))
    (remote.root / CSV).write_bytes((DATA / CSV).read_bytes().replace(b"Approved", b"Approvex"))
    capsys.readouterr()
    before_outside = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")
                            if "box" not in p.parts)
    assert _run(remote.api_url, dest) == 1
    # The entry is dropped, so the file of that name is no longer known to be fetch's own:
    # it is kept as it is rather than overwritten.
    assert "exists and was not downloaded by fetch" in _only_error(capsys.readouterr().err)
    assert (dest / CSV).read_bytes() == (DATA / CSV).read_bytes()
    after_outside = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")
                           if "box" not in p.parts)
    assert after_outside == before_outside
    assert not Path("/tmp/npd-fetch-abs.csv").exists()
    assert sorted(p.name for p in (tmp_path / "box").iterdir()) == ["releases"]
    assert sorted(p.name for p in dest.iterdir()) == sorted([ODS, CSV, "manifest.json"])
    names = sorted(e["filename"] for e in json.loads(path.read_text())["files"].values())
    assert names == [ODS]


def test_chunked_body_cut_short_is_not_kept(remote: Remote, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Chunked transfer without its final zero-length chunk: the connection's end is checked."""
    full = (DATA / CSV).read_bytes()

    def cut(h: SimpleHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(b"%x\r\n" % 200 + full[:200] + b"\r\n")  # no closing 0-size chunk
        h.wfile.flush()
        h.close_connection = True

    remote.custom[CSV] = cut
    dest = tmp_path / "releases"
    assert _run(remote.api_url, dest) == 1
    line = _only_error(capsys.readouterr().err)
    assert line.startswith(f"error: {CSV}: download failed (") and line.endswith("nothing kept")
    assert not (dest / CSV).exists() and _no_temp_files(dest)
