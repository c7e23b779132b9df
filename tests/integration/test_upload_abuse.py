"""Oversized uploads against a real server, over raw sockets.

The server gets a temporary directory of its own (TMPDIR), so the tests can
check that Starlette's spooled upload files are gone after each request.
Rejected audio that decodes to hours of samples is covered by the decoder
tests in tests/services/test_audio.py.
"""

import select
import socket
import time
from pathlib import Path

import pytest

from tests.conftest import StartApi
from tests.servers import ApiServer

QUERY = "/api/v1/voice/query"
# A small limit keeps the streams short; the middleware's allowance for
# the multipart framing (64 KiB) comes on top.
MAX_UPLOAD_BYTES = 1024 * 1024
CHUNK = b"\0" * 65536
BOUNDARY = "pravis-abuse"
SPEECH_MODELS_DIR = "pravis-api-speech-models"


@pytest.fixture
def upload_server(start_api: StartApi, tmp_path: Path) -> tuple[ApiServer, Path]:
    spool = tmp_path / "spool"
    spool.mkdir()
    server = start_api(
        VOICE_MAX_UPLOAD_BYTES=str(MAX_UPLOAD_BYTES),
        RATE_LIMIT_ENABLED="false",
        TMPDIR=str(spool),
    )
    server.wait_until_serving()
    return server, spool


def spooled_files(spool: Path) -> list[Path]:
    # The speech workers keep their model files in a directory there.
    return [path for path in spool.iterdir() if path.name != SPEECH_MODELS_DIR]


def multipart_head() -> bytes:
    return (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="audio"; filename="a.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()


def request_head(port: int, *, length: int | None) -> bytes:
    lines = [
        f"POST {QUERY} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
    ]
    if length is None:
        lines.append("Transfer-Encoding: chunked")
    else:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_status(sock: socket.socket, timeout: float = 10) -> int:
    sock.settimeout(timeout)
    data = b""
    while b"\r\n" not in data:
        part = sock.recv(4096)
        if not part:
            break
        data += part
    return int(data.split(b" ", 2)[1])


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def stream_until_answered(sock: socket.socket, total: int) -> int:
    """Send up to `total` body bytes in chunks; return how many went out
    before the server responded or closed the connection."""
    sent = 0
    while sent < total:
        readable, _, _ = select.select([sock], [], [], 0)
        if readable:
            break
        try:
            sock.sendall(chunk(CHUNK))
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += len(CHUNK)
    return sent


def assert_spool_empty(spool: Path) -> None:
    # Starlette closes (and so deletes) the spooled files as the request
    # ends, which may be a moment after the response went out.
    deadline = time.monotonic() + 5
    while spooled_files(spool) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert spooled_files(spool) == []


def test_declared_oversize_rejected_unread(
    upload_server: tuple[ApiServer, Path],
) -> None:
    server, spool = upload_server
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        # Only the headers go out: the 413 must come without the body.
        sock.sendall(request_head(server.port, length=50 * MAX_UPLOAD_BYTES))
        status = read_status(sock)
    assert status == 413
    assert_spool_empty(spool)


def test_chunked_oversize_stops_early(upload_server: tuple[ApiServer, Path]) -> None:
    server, spool = upload_server
    total = 200 * MAX_UPLOAD_BYTES
    head = multipart_head()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(request_head(server.port, length=None) + chunk(head))
        sent = stream_until_answered(sock, total)
        status = read_status(sock)
    assert status == 413
    # The kernel's socket buffers take some megabytes beyond what the
    # server reads, but nowhere near the 200 MB the client had to send.
    assert sent < total / 4
    assert_spool_empty(spool)


def test_large_rejected_upload_leaves_no_file(
    upload_server: tuple[ApiServer, Path],
) -> None:
    server, spool = upload_server
    # Just under the limit: Starlette spools it to disk (past 1 MB), and
    # the decoder rejects it as not audio.
    body = (
        multipart_head()
        + b"\0" * (MAX_UPLOAD_BYTES - 1024)
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(request_head(server.port, length=len(body)) + body)
        status = read_status(sock, timeout=30)
    assert status == 415
    assert_spool_empty(spool)
