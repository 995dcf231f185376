"""One model worker thread: the newest request per key wins.

pygls cannot stop a thread that is running, so model work runs here, one job
at a time, and each job gets an `is_stale()` callable that the generator
checks at every decoding step. A job goes stale when

- a newer job is submitted under the same key (the user typed on), or
- every request waiting for it was cancelled (`$/cancelRequest`).

Requests that ask for the same thing at the same time (an editor that sends
`textDocument/completion` and `textDocument/inlineCompletion` for one
keystroke) share one job instead of superseding each other.

Results go back through `concurrent.futures.Future`; `Job.wait()` awaits one
from asyncio without letting one waiter's cancellation cancel the others.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any

from bashcoder.engine.generate import Stale

log = logging.getLogger(__name__)

Work = Callable[[Callable[[], bool]], Any]
"""A job's body: called with its `is_stale` on the worker thread."""


class Job:
    """One unit of model work and the requests waiting for it."""

    def __init__(self, key: Hashable, work: Work, share: Hashable | None = None) -> None:
        self.key = key
        self.share = share
        self.work = work
        self.future: Future[Any] = Future()
        self._superseded = False
        self._waiters = 0
        self._abandoned = False
        self._lock = threading.Lock()

    def is_stale(self) -> bool:
        """True once superseded by a newer job or abandoned by every waiter."""
        return self._superseded or self._abandoned

    def supersede(self) -> None:
        self._superseded = True

    def join(self) -> None:
        """One more request waits for this job."""
        with self._lock:
            self._waiters += 1

    def leave(self) -> None:
        """A waiting request was cancelled; the last one to leave abandons the job."""
        with self._lock:
            self._waiters -= 1
            if self._waiters <= 0:
                self._abandoned = True

    async def wait(self) -> Any:
        """The job's result in the running event loop; cancelling this only leaves the job."""
        loop = asyncio.get_running_loop()
        mine: asyncio.Future[Any] = loop.create_future()

        def copy(done: Future[Any]) -> None:
            if mine.done():
                return
            if done.cancelled():
                mine.set_exception(Stale())
            elif (exc := done.exception()) is not None:
                mine.set_exception(exc)
            else:
                mine.set_result(done.result())

        def deliver(done: Future[Any]) -> None:
            try:
                loop.call_soon_threadsafe(copy, done)
            except RuntimeError:  # the loop is closed: the server is exiting and nobody waits
                pass

        self.future.add_done_callback(deliver)
        try:
            return await mine
        except asyncio.CancelledError:
            self.leave()
            raise


class Worker:
    """A daemon thread running submitted jobs in order, skipping stale ones."""

    def __init__(self, name: str = "bashcoder-model") -> None:
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self.counts: Counter[str] = Counter()
        """What happened to jobs so far: started, finished, failed, stale_before_start, stale_while_running
        (diagnostics: the `bashcoder/stats` request returns them; tests wait on them, not on log lines)."""
        self._latest: dict[Hashable, Job] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, key: Hashable, work: Work, share: Hashable | None = None) -> Job:
        """Queue `work` under `key`, superseding the previous job for that key.

        When the previous job was submitted with an equal, non-None `share`
        and is still live, the caller joins it instead.
        """
        with self._lock:
            prev = self._latest.get(key)
            if (
                prev is not None
                and share is not None
                and prev.share == share
                and not prev.is_stale()
                and not prev.future.done()
            ):
                prev.join()
                return prev
            if prev is not None:
                prev.supersede()
            job = Job(key, work, share)
            job.join()
            self._latest[key] = job
        self._queue.put(job)
        return job

    def supersede(self, key: Hashable) -> None:
        """Make the current job for `key` stale (a newer request was answered without the model)."""
        with self._lock:
            prev = self._latest.pop(key, None)
        if prev is not None:
            prev.supersede()

    def stop(self, timeout: float | None = 5.0) -> bool:
        """Make every job stale, drop the queue and end the thread, waiting up to `timeout` seconds
        (0: not at all). Returns whether the thread has ended: a decode ends at its next step, a
        model load only when it is done (it cannot be interrupted)."""
        with self._lock:
            for job in self._latest.values():
                job.supersede()
            self._latest.clear()
        self._queue.put(None)
        if threading.current_thread() is not self._thread and timeout != 0:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            self._run_one(job)

    def _run_one(self, job: Job) -> None:
        if job.is_stale():
            log.debug("job %r: dropped, stale before it started", job.key)
            self.counts["stale_before_start"] += 1
            job.future.set_exception(Stale())
        elif job.future.set_running_or_notify_cancel():
            log.debug("job %r: started", job.key)
            self.counts["started"] += 1
            started = time.perf_counter()
            try:
                job.future.set_result(job.work(job.is_stale))
                self.counts["finished"] += 1
            except BaseException as exc:  # the thread must outlive every job
                ms = (time.perf_counter() - started) * 1000
                if isinstance(exc, Stale):
                    self.counts["stale_while_running"] += 1
                    log.debug("job %r: stopped, went stale while running (%.0f ms)", job.key, ms)
                else:
                    self.counts["failed"] += 1
                    log.debug("job %r: failed after %.0f ms: %s", job.key, ms, exc)
                job.future.set_exception(exc)
        with self._lock:
            if self._latest.get(job.key) is job:
                del self._latest[job.key]
