"""The model worker runs one job at a time; the newest request per document wins."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bashcoder.engine.generate import Stale
from bashcoder.server.worker import Worker


def _decoder(steps: int, started: threading.Event | None = None) -> Callable[[Callable[[], bool]], int]:
    """A stand-in for decoding: checks staleness every step, like the generator."""

    def work(is_stale: Callable[[], bool]) -> int:
        if started is not None:
            started.set()
        for _step in range(steps):
            if is_stale():
                raise Stale()
            time.sleep(0.002)
        return steps

    return work


@pytest.fixture()
def worker() -> Worker:
    w = Worker()
    yield w
    w.stop()
    assert not w.alive


def test_a_newer_job_for_the_same_document_stops_the_running_one(worker: Worker) -> None:
    started = threading.Event()
    old = worker.submit("a.sh", _decoder(5000, started))
    assert started.wait(5)
    new = worker.submit("a.sh", _decoder(3))
    assert new.future.result(5) == 3
    with pytest.raises(Stale):
        old.future.result(0)


def test_queued_jobs_that_went_stale_never_run(worker: Worker) -> None:
    ran: list[str] = []
    gate = threading.Event()
    worker.submit("busy", lambda stale: gate.wait(5))
    first = worker.submit("a.sh", lambda stale: ran.append("first"))
    second = worker.submit("a.sh", lambda stale: ran.append("second"))
    gate.set()
    second.future.result(5)
    with pytest.raises(Stale):
        first.future.result(5)
    assert ran == ["second"]


def test_other_documents_do_not_supersede_each_other(worker: Worker) -> None:
    a = worker.submit("a.sh", _decoder(10))
    b = worker.submit("b.sh", _decoder(10))
    assert a.future.result(5) == 10 and b.future.result(5) == 10


def test_equal_requests_share_one_job(worker: Worker) -> None:
    gate = threading.Event()
    worker.submit("busy", lambda stale: gate.wait(5))
    calls: list[int] = []
    one = worker.submit("a.sh", lambda stale: calls.append(1) or "x", share=("a.sh", 5))
    two = worker.submit("a.sh", lambda stale: calls.append(2) or "y", share=("a.sh", 5))
    gate.set()
    assert one is two and one.future.result(5) == "x" and calls == [1]


def test_a_failing_job_does_not_kill_the_worker(worker: Worker) -> None:
    def boom(stale: Callable[[], bool]) -> None:
        raise RuntimeError("bad model")

    with pytest.raises(RuntimeError):
        worker.submit("a.sh", boom).future.result(5)
    assert worker.submit("a.sh", lambda stale: 42).future.result(5) == 42


def test_supersede_without_a_new_job_stops_the_running_one(worker: Worker) -> None:
    started = threading.Event()
    job = worker.submit("a.sh", _decoder(5000, started))
    assert started.wait(5)
    worker.supersede("a.sh")
    with pytest.raises(Stale):
        job.future.result(5)


def test_cancelling_every_waiter_stops_the_job_but_one_waiter_leaving_does_not(worker: Worker) -> None:
    async def scenario() -> None:
        started = threading.Event()
        job = worker.submit("a.sh", _decoder(5000, started), share="k")
        assert worker.submit("a.sh", _decoder(1), share="k") is job  # a second waiter
        first = asyncio.ensure_future(job.wait())
        second = asyncio.ensure_future(job.wait())
        await asyncio.sleep(0)
        assert await asyncio.to_thread(started.wait, 5)
        first.cancel()
        await asyncio.sleep(0.05)
        assert not job.is_stale()  # the other waiter still wants it
        second.cancel()
        with pytest.raises(Stale):
            await asyncio.wrap_future(job.future)

    asyncio.run(scenario())


def test_wait_delivers_results_and_errors_to_asyncio(worker: Worker) -> None:
    async def scenario() -> tuple[int, type[BaseException]]:
        ok = await worker.submit("a.sh", lambda stale: 7).wait()
        try:
            await worker.submit("b.sh", lambda stale: 1 / 0).wait()
        except ZeroDivisionError as exc:
            return ok, type(exc)
        raise AssertionError("no error")

    assert asyncio.run(scenario()) == (7, ZeroDivisionError)


def test_stop_without_waiting_returns_at_once_and_says_whether_the_thread_ended() -> None:
    # A `shutdown` request must be answered while a model load (which cannot be interrupted) runs.
    w = Worker()
    loading = threading.Event()
    release = threading.Event()
    w.submit("load", lambda stale: (loading.set(), release.wait(10)))
    assert loading.wait(5)
    started = time.monotonic()
    assert w.stop(timeout=0) is False and w.alive
    assert time.monotonic() - started < 1.0  # did not wait for the load (a hang guard)
    release.set()
    assert w.stop(timeout=5) is True and not w.alive


def test_the_server_exits_with_its_status_when_the_worker_is_stuck_in_a_load(tmp_path: Path) -> None:
    # Finalising the interpreter around a worker inside torch/ONNX Runtime aborted the process
    # (SIGABRT, status -6); the server now leaves such a worker behind and exits with its status.
    import subprocess
    import sys

    script = (
        "import threading\n"
        "from bashcoder.server.server import build_server\n"
        "server = build_server()\n"
        "server.worker.submit('load', lambda stale: threading.Event().wait(60))\n"
        "server.worker.stop(timeout=0)\n"
        "server.exit_process(1, wait=0.2)\n"
    )
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr.decode()[-2000:]
    assert time.monotonic() - started < 30  # not the 60 s the stuck job would take (a hang guard)
