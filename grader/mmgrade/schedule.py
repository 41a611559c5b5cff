"""Grade several chapters at once: plan their boots, run them on one pool, long ones first, score.

Shared boots. Chapter N's kernel holds every earlier chapter's code and its
``ktest`` runs every earlier chapter's suites, so when chapters M < N both
list the same machine (memory, harts, device tree and bootargs), one boot of
N's kernel gives the results of both: M's items are read from it. What could
that lose? A result of M's that only M's own kernel gives. A correct M never
loses points to it: if any of M's items does not pass in the shared boot (a
later chapter that is stubbed or broken, say), M's own kernel boots on that
machine too, a *confirmation*, and M's items in that configuration are read
from it instead. So sharing only ever saves boots where the larger kernel
passes M's tests; the machine, the tests and M's code are the same.

Scheduling. Every boot of the grade goes into one queue, and ``--jobs``
workers take them in start_order(): the ``--jobs`` - 1 longest first (by the
time the same boot took in the last grade, build/grade/boot-times.json; a
boot never seen counts by its harts and chapter), so that the long boots do
not start last, then the shortest and the longest left in turn. The chapters' kernels
are built at once (each make writes only its own build/chN; one with nothing
to do takes a fraction of a second), and the boots are queued when all are
built, so that every boot knows each chapter it serves. A chapter is scored
as soon as its last boot is in, and reported in chapter order.
"""

import concurrent.futures
import json
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable

from . import exercises, score
from .grading import Settings, boot_config, boot_log_path, prepare_kernel, selected_configs
from .progress import Progress
from .qemu import Boot, kill_all
from .rubric import Chapter, Config
from .sources import run_order

TIMES_FILE = "boot-times.json"


def machine(config: Config) -> tuple:
    """What a boot's results depend on besides the kernel: two configurations with the same one can share a boot."""
    return (config.memory, config.smp, config.dtb, config.bootargs)


@dataclass(order=True)
class Job:
    """One boot to run: @p chapter's kernel in @p config, read by the chapters in @p serves,
    each with its own configuration of the same machine (names may differ). Jobs order
    by sort_key: (rank in start_order(), -expected seconds, sequence)."""

    sort_key: tuple = field(init=True, repr=False)
    chapter: Chapter = field(compare=False)
    config: Config = field(compare=False)
    serves: tuple[tuple[Chapter, Config], ...] = field(compare=False, default=())
    confirm: bool = field(compare=False, default=False)

    @property
    def key(self) -> str:
        """``chN/CONFIG``: the name of this boot in boot-times.json and in progress lines."""
        return f"{self.chapter.name}/{self.config.name}"


@dataclass
class Counts:
    """How many boots a grade made, for the line before the closing line."""

    boots: int = 0
    shared: int = 0
    confirmations: int = 0
    configurations: int = 0


class Grade:
    """One grade of @p chapters: build, boot (shared where that loses nothing), score."""

    def __init__(
        self,
        chapters: list[Chapter],
        settings: Settings,
        rubric: dict[int, Chapter],
        on_chapter: Callable[[score.ChapterResult], None] | None = None,
    ):
        self.chapters = sorted(chapters, key=lambda chapter: chapter.number)
        self.settings = settings
        self.rubric = rubric
        self.on_chapter = on_chapter
        self.counts = Counts()
        self.progress = Progress(settings.show_progress)
        self.history = self._load_times()
        self.times: dict[str, float] = {}
        self._cond = threading.Condition()
        self._queue: list[Job] = []
        self._pending = 0
        self._closed = False
        self._seq = 0
        self._stop = False
        self._error: BaseException | None = None  # what broke a worker, raised by run()
        self._orders: dict[int, dict[str, list[str]]] = {}
        self._boots: dict[int, dict[str, Boot]] = {chapter.number: {} for chapter in self.chapters}
        self._waiting: dict[int, int] = {}  # chapter -> boots (and confirmations) still to come
        self._start: dict[int, float] = {}
        self._results: dict[int, score.ChapterResult] = {}
        self._reported = 0
        self.start = time.monotonic()

    # -- the whole run ---------------------------------------------------

    def run(self) -> list[score.ChapterResult]:
        """Grade every chapter; return their results in chapter order."""
        self.start = time.monotonic()
        workers = [threading.Thread(target=self._worker, daemon=True) for _ in range(max(1, self.settings.jobs))]
        for worker in workers:
            worker.start()
        self.progress.start()
        try:
            self._build_and_queue()
            with self._cond:
                self._closed = True
                self._cond.notify_all()
            for worker in workers:
                while worker.is_alive():
                    worker.join(0.2)
            if self._error is not None:
                raise self._error
        except KeyboardInterrupt:
            with self._cond:
                self._stop = True
                self._cond.notify_all()
            kill_all()
            raise
        finally:
            self.progress.stop()
        self._save_times()
        return [self._results[chapter.number] for chapter in self.chapters]

    def _build_and_queue(self) -> None:
        """Build every chapter, then plan and queue the boots.

        A machine listed by several chapters is booted once, with the highest
        built chapter's kernel (the first to claim it, going down). Every
        claim is made before any boot starts, so that a boot knows all the
        chapters it serves when it ends.
        """
        built = []
        self.progress.note("building " + ", ".join(chapter.name for chapter in self.chapters))
        for chapter in self.chapters:
            self._start[chapter.number] = time.monotonic()
        # Each chapter builds in build/chN alone: the makes run at once.
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(self.chapters) or 1) as pool:
            failures = list(pool.map(lambda chapter: prepare_kernel(chapter, self.settings), self.chapters))
        for chapter, failure in reversed(list(zip(self.chapters, failures))):
            if failure is not None:
                self._finish_chapter(chapter, score.build_failed(chapter, failure))
                continue
            self._orders[chapter.number] = run_order(self.settings.root, chapter.number)
            built.append(chapter)
        self.progress.note("")
        claimed: dict[tuple, Job] = {}
        for chapter in built:
            configs = selected_configs(chapter, self.settings)
            self.counts.configurations += len(configs)
            self._waiting[chapter.number] = len(configs)
            for config in configs:
                job = claimed.get(machine(config))
                if job is None:
                    job = claimed[machine(config)] = self._job(chapter, config)
                job.serves += ((chapter, config),)
        for rank, job in enumerate(start_order(sorted(claimed.values()), self.settings.jobs)):
            job.sort_key = (rank, *job.sort_key[1:])
            self._submit(job)
        for chapter in built:
            if not self._waiting[chapter.number]:
                self._score(chapter)

    # -- the queue ---------------------------------------------------------

    def _job(self, chapter: Chapter, config: Config, confirm: bool = False) -> Job:
        """A job, keyed so that the longest expected boot sorts first (its rank in
        start_order() goes in front when the plan is queued; a confirmation,
        which comes late, has rank -1: it goes before what is left)."""
        with self._cond:
            self._seq += 1
            seq = self._seq
        key = f"{chapter.name}/{config.name}"
        expected = self.history.get(key, chapter.number * (1 + config.smp))
        return Job((-1, -expected, seq), chapter, config, confirm=confirm)

    def _submit(self, job: Job) -> None:
        """Queue @p job for the workers."""
        with self._cond:
            self._queue.append(job)
            self._pending += 1
            self.progress.queued()
            self._cond.notify()

    def _worker(self) -> None:
        """Take the next job until the queue is closed and nothing is pending."""
        while True:
            with self._cond:
                job = self._take()
                while job is None and not self._stop and not (self._closed and self._pending == 0 and not self._queue):
                    self._cond.wait()
                    job = self._take()
                if job is None:
                    return
            try:
                self._run(job)
            except BaseException as err:  # a bug here must not leave a chapter unscored in silence
                with self._cond:
                    self._error = self._error or err
                    self._stop = True
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

    def _take(self) -> Job | None:
        """The first job queued by sort key (None if none, or stopping); caller holds the lock."""
        if self._stop or not self._queue:
            return None
        job = min(self._queue)
        self._queue.remove(job)
        return job

    def _run(self, job: Job) -> None:
        """Boot @p job, then hand its results to every chapter it serves."""
        self.progress.started(job.key, boot_log_path(job.chapter, job.config, self.settings))
        boot = boot_config(job.chapter, job.config, self.settings, self._orders[job.chapter.number])
        self.progress.finished(job.key)
        self.times[job.key] = boot.elapsed
        with self._cond:
            self.counts.boots += 1
            self.counts.shared += len(job.serves) > 1
            self.counts.confirmations += job.confirm
        for chapter, own in job.serves:
            view = boot if chapter is job.chapter else replace(boot, label=own.name)
            if chapter is not job.chapter and not _all_pass(chapter, view):
                confirm = self._job(chapter, own, confirm=True)
                confirm.serves = ((chapter, own),)
                self.settings.progress(
                    f"{chapter.name}/{own.name}: not every item passed in {job.key}: booting {chapter.name}'s own kernel"
                )
                self._submit(confirm)
                continue
            self._deliver(chapter, view)

    # -- scoring -------------------------------------------------------------

    def _deliver(self, chapter: Chapter, boot: Boot) -> None:
        """@p boot is @p chapter's result in one configuration; score the chapter when it has them all."""
        with self._cond:
            self._boots[chapter.number][boot.label] = boot
            self._waiting[chapter.number] -= 1
            done = self._waiting[chapter.number] == 0
        if done:
            self._score(chapter)

    def _score(self, chapter: Chapter) -> None:
        """Score @p chapter from its boots, in its configurations' order."""
        boots = self._boots[chapter.number]
        ordered = [boots[config.name] for config in selected_configs(chapter, self.settings) if config.name in boots]
        result = score.score_chapter(chapter, ordered)
        exercises.attach(result, self.rubric or {chapter.number: chapter}, self.settings.root)
        self._finish_chapter(chapter, result)

    def _finish_chapter(self, chapter: Chapter, result: score.ChapterResult) -> None:
        """Keep @p result, and report every chapter that is now next in order."""
        result.elapsed = time.monotonic() - self._start.get(chapter.number, self.start)
        with self._cond:
            self._results[chapter.number] = result
            ready = []
            while self._reported < len(self.chapters) and self.chapters[self._reported].number in self._results:
                ready.append(self._results[self.chapters[self._reported].number])
                self._reported += 1
        for done in ready:
            if self.on_chapter is not None:
                with self.progress.paused():
                    self.on_chapter(done)

    # -- boot-times.json -----------------------------------------------------

    def _load_times(self) -> dict[str, float]:
        """The last grade's boot times (seconds by ``chN/CONFIG``), or nothing."""
        try:
            data = json.loads((self.settings.log_dir / TIMES_FILE).read_text(encoding="utf-8"))
            return {str(key): float(value) for key, value in data.items()}
        except (OSError, ValueError, AttributeError, TypeError):
            return {}

    def _save_times(self) -> None:
        """Remember this grade's boot times for the next one's order (best effort)."""
        merged = {**self.history, **{key: round(value, 2) for key, value in self.times.items()}}
        try:
            self.settings.log_dir.mkdir(parents=True, exist_ok=True)
            (self.settings.log_dir / TIMES_FILE).write_text(json.dumps(merged, indent=1, sort_keys=True) + "\n")
        except OSError:
            pass


def start_order(jobs: list, slots: int) -> list:
    """The order in which to start @p jobs (sorted longest first) on @p slots workers.

    The @p slots - 1 longest first, then the shortest and the longest left in
    turn. Every boot waits part of its time (the watchdog's tests sleep about
    a second in each), and a short boot is mostly such waiting: started beside
    the long ones, its waits overlap their work; left for the end, as longest
    first alone leaves them, they left the cores idle for the last second or
    two (full grade, 3 at a time: 18.9 s -> 17.8 s, medians of three).
    """
    first = jobs[: max(1, slots - 1)]
    rest = list(jobs[len(first) :])
    order = list(first)
    while rest:
        order.append(rest.pop())
        if rest:
            order.append(rest.pop(0))
    return order


def _all_pass(chapter: Chapter, boot: Boot) -> bool:
    """True if every item of @p chapter passed (or was skipped) in @p boot."""
    for item in chapter.items:
        outcome = score.item_outcome(boot, item)
        if not (outcome.passed or outcome.skipped):
            return False
    return True


def grade_chapters(
    chapters: list[Chapter],
    settings: Settings,
    rubric: dict[int, Chapter] | None = None,
    on_chapter: Callable[[score.ChapterResult], None] | None = None,
) -> tuple[list[score.ChapterResult], Counts]:
    """Build, boot and score @p chapters together; call @p on_chapter with each result in chapter order.

    @p rubric (every chapter, by number) names the exercises whose stubs
    blocked an item (a stub of another chapter's too); default: the graded ones.
    """
    grade = Grade(chapters, settings, rubric or {chapter.number: chapter for chapter in chapters}, on_chapter)
    return grade.run(), grade.counts


def grade_chapter(
    chapter: Chapter, settings: Settings, rubric: dict[int, Chapter] | None = None
) -> score.ChapterResult:
    """Build, boot every selected configuration (in parallel) and score one chapter."""
    results, _ = grade_chapters([chapter], settings, rubric)
    return results[0]
