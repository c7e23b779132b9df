"""SIGTERM against a real `pravis-api serve` process.

Each test starts the command on a spare loopback port, with the test
database and Azurite, and checks what a container platform observes when
it stops a replica. Requests in flight finish, new connections are
refused, the process exits 0 within a bound, and no child process is left.
"""

import http.client
import json
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from pravis_api.resources import (
    CLIENT_CLOSE_TIMEOUT_SECONDS,
    SPEECH_DRAIN_TIMEOUT_SECONDS,
)
from tests.conftest import DATA, StartApi
from tests.servers import ApiServer

RECORDING = (DATA / "goforward.wav").read_bytes()
BOUNDARY = "pravis-shutdown-test"
# The maximum time a stop may take after the grace period: the speech
# pool's drain, closing the clients, and 5 s of slack for a loaded machine.
SHUTDOWN_SLACK_SECONDS = SPEECH_DRAIN_TIMEOUT_SECONDS + CLIENT_CLOSE_TIMEOUT_SECONDS + 5


def child_processes(pid: int) -> dict[int, str]:
    """Map each descendant of `pid` to its start time, read from /proc."""
    parents: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = (int(fields[1]), fields[19])

    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, started) in parents.items():
            if ppid == parent and child not in found:
                found[child] = started
                frontier.append(child)
    return found


def still_running(processes: dict[int, str], timeout: float = 5) -> list[int]:
    """Return the processes still running after up to `timeout` seconds.

    A zombie has exited and only waits to be reaped, and a reused pid has
    a new start time, so neither counts. An orphan such as multiprocessing's
    resource tracker exits a moment after the server does, hence the wait.
    """
    deadline = time.monotonic() + timeout
    while True:
        running = []
        for pid, started in processes.items():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] not in ("Z", "X") and fields[19] == started:
                running.append(pid)
        if not running or time.monotonic() > deadline:
            return running
        time.sleep(0.05)


def multipart_recording() -> bytes:
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="audio"; filename="clip.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    return head + RECORDING + f"\r\n--{BOUNDARY}--\r\n".encode()


def start_upload(port: int, body: bytes, sent: int) -> http.client.HTTPConnection:
    """Send a voice query's headers and the first `sent` bytes of its body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.putrequest("POST", "/api/v1/voice/query")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders()
    connection.send(body[:sent])
    return connection


def refuses_connections(port: int, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
        except ConnectionRefusedError:
            return True
        time.sleep(0.05)
    return False


def wait_for_exit(server: ApiServer, timeout: float) -> tuple[int, float]:
    started = time.monotonic()
    try:
        code = server.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"server still running {timeout} s after SIGTERM:\n{server.log_text()}"
        )
    return code, time.monotonic() - started


def test_sigterm_finishes_request_in_flight(start_api: StartApi) -> None:
    server = start_api(GRACEFUL_SHUTDOWN_TIMEOUT_SECONDS="10")
    server.wait_until_serving()
    children = child_processes(server.process.pid)
    assert children, "the speech worker processes were not found"

    body = multipart_recording()
    upload = start_upload(server.port, body, sent=len(body) // 2)
    server.process.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    assert refuses_connections(server.port), server.log_text()

    # The rest of the body arrives after SIGTERM, so the recording is
    # transcribed by a speech worker while the server is stopping.
    upload.send(body[len(body) // 2 :])
    response = upload.getresponse()
    payload = response.read().decode()
    assert response.status == 200, payload
    assert '"transcript":"go forward' in payload
    assert response.getheader("connection") == "close"

    code, _ = wait_for_exit(server, timeout=10 + SHUTDOWN_SLACK_SECONDS)
    assert code == 0, server.log_text()
    assert time.monotonic() - signalled < 10 + SHUTDOWN_SLACK_SECONDS
    assert still_running(children) == []
    log = server.log_text()
    assert "speech_pool.stopped" in log
    assert "app.stopped" in log


def test_sigterm_cancels_request_past_grace_period(start_api: StartApi) -> None:
    server = start_api(GRACEFUL_SHUTDOWN_TIMEOUT_SECONDS="1")
    server.wait_until_serving()
    children = child_processes(server.process.pid)

    # A client that never sends the rest of its body would hold the server
    # forever without the grace period. Past it, the request is cancelled
    # and gets 503.
    body = multipart_recording()
    upload = start_upload(server.port, body, sent=100)
    server.process.send_signal(signal.SIGTERM)

    code, elapsed = wait_for_exit(server, timeout=1 + SHUTDOWN_SLACK_SECONDS)
    assert code == 0, server.log_text()
    assert elapsed >= 1
    response = upload.getresponse()
    problem = json.loads(response.read())
    assert response.status == 503
    assert response.getheader("content-type") == "application/problem+json"
    assert response.getheader("retry-after") == "1"
    assert problem["type"] == "urn:problem:pravis:server-stopping"
    assert still_running(children) == []
    assert "app.stopped" in server.log_text()


def test_sigterm_stops_every_worker(start_api: StartApi) -> None:
    server = start_api("--workers", "2")
    server.wait_until_serving(workers=2)
    children = child_processes(server.process.pid)
    # Two uvicorn workers, each with one speech worker, at the least.
    assert len(children) >= 4, children

    server.process.send_signal(signal.SIGTERM)
    code, _ = wait_for_exit(server, timeout=15 + SHUTDOWN_SLACK_SECONDS)
    assert code == 0, server.log_text()
    assert still_running(children) == []
    assert server.log_text().count("app.stopped") == 2
