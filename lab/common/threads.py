"""Choosing torch's CPU thread count by timing the training steps themselves, and choosing again when they slow.

On a free machine a small network trains faster on every core; beside
another busy program the threads wait for each other whenever one of them
loses its core, and one thread is several times faster. No fixed count is
right for both, so a ThreadChooser runs real training steps at each
candidate count in turn (a "look"), keeps the count whose steps took least
time on average, and looks again when the steps at the kept count drift
from what the look measured (the machine's load changed), and every so
often in any case. Nothing is thrown away: the looked-at steps are
training steps.

    chooser = ThreadChooser(candidate_counts(torch.get_num_threads()))
    for images, labels in batches:
        with chooser.step():
            ...  # one training step

The clock and the function that sets the count are arguments, so tests can
drive the choice with a fake timer.
"""
import contextlib
import time


def candidate_counts(most):
    """The counts worth comparing on a machine where torch would use ``most`` threads: 1, 2, 4, ... and ``most``."""
    counts, count = [], 1
    while count < most:
        counts.append(count)
        count *= 2
    return counts + [max(most, 1)]


def set_torch_threads(count):
    """torch.set_num_threads, imported when first used."""
    import torch

    torch.set_num_threads(count)


class ThreadChooser:
    """Runs training steps at the thread count that has been fastest lately; see the module's text.

    ``counts``: the candidates (one count: no choosing, every step runs at
    it). A look runs ``rounds`` rounds of one segment per count, the kept
    count first; a segment lasts at least ``segment_steps`` steps and
    ``segment_s`` seconds, so short steps are timed in numbers. The count
    whose steps took least time on average is kept: the mean, not the
    median, because beside a busy program most steps on two threads are as
    quick as ever and a few take a hundred times longer, and the few decide.
    A count leaves the look once it is clearly slower: its mean over two or
    more steps ``hopeless`` times the best mean, or its first step ten times
    it.

    After a look, the steps at the kept count are checked every ``window_s``
    seconds (and ``segment_steps`` steps): a mean ``drift`` times slower or
    faster than the look measured starts a new look (the load changed).
    Besides, a new look comes ``interval_s`` seconds after the last; each look
    that keeps the same count doubles that interval, up to ``max_interval_s``.
    """

    def __init__(self, counts, rounds=2, segment_steps=3, segment_s=0.1, window_s=1.0, drift=1.3, hopeless=2.0,
                 interval_s=10.0, max_interval_s=80.0, clock=time.perf_counter, set_threads=set_torch_threads):
        self.counts = list(counts)
        self.rounds, self.segment_steps, self.segment_s = rounds, segment_steps, segment_s
        self.window_s, self.drift, self.hopeless = window_s, drift, hopeless
        self.base_interval, self.max_interval, self.interval = interval_s, max_interval_s, interval_s
        self.clock, self.set_threads = clock, set_threads
        self.chosen, self.current = self.counts[0], None
        self.segments, self.timed = [], {}  # the look's segments; per count [steps, seconds] in this look
        self.recent = [0, 0.0]  # steps and seconds at the kept count since the last check
        self.expected = None  # the kept count's mean step at the last look, in seconds
        self.since_look = 0.0  # seconds of steps since the last look ended
        self.looks = []  # one dict per look: {"mean_ms": {count: ms}, "chosen": count}
        self.used = {count: 0 for count in self.counts}  # steps run at each count since reset_counts
        self.look()

    def look(self):
        """Compare the counts again on the next steps (nothing to compare with a single count)."""
        if len(self.counts) > 1:
            order = [self.chosen] + [count for count in self.counts if count != self.chosen]
            self.segments = [[count, 0, 0.0] for _ in range(self.rounds) for count in order]  # count, steps, s
            self.timed = {count: [0, 0.0] for count in self.counts}
        self.recent = [0, 0.0]

    @contextlib.contextmanager
    def step(self):
        """Run one training step (the block) at the count due, and time it."""
        count = self.segments[0][0] if self.segments else self.chosen
        if count != self.current:
            self.set_threads(count)
            self.current = count
        started = self.clock()
        yield count
        self.record(count, self.clock() - started)

    def record(self, count, seconds):
        """Note one step of ``seconds`` at ``count``: part of a look, or a check on the kept count."""
        self.used[count] += 1
        if self.segments:
            segment, timed = self.segments[0], self.timed[count]
            segment[1], segment[2] = segment[1] + 1, segment[2] + seconds
            timed[0], timed[1] = timed[0] + 1, timed[1] + seconds
            if segment[1] >= self.segment_steps and segment[2] >= self.segment_s:
                self.segments.pop(0)
            self.drop_hopeless()
            if not self.segments:
                self.choose()
            return
        if self.expected is None:  # a single count: nothing to compare
            return
        self.recent = [self.recent[0] + 1, self.recent[1] + seconds]
        self.since_look += seconds
        steps, total = self.recent
        if steps >= self.segment_steps and total >= self.window_s:
            mean = total / steps
            self.recent = [0, 0.0]
            if mean > self.drift * self.expected or mean * self.drift < self.expected:
                self.interval = self.base_interval
                self.look()
                return
        if self.since_look >= self.interval:
            self.look()

    def drop_hopeless(self):
        """Take the counts that are clearly slower than the best so far out of the rest of the look."""
        means = {count: total / steps for count, (steps, total) in self.timed.items() if steps >= 2}
        if not means:
            return
        best = min(means.values())
        for count, (steps, total) in self.timed.items():
            if (steps == 1 and total > 10 * best) or (steps >= 2 and means[count] > self.hopeless * best):
                self.segments = [segment for segment in self.segments if segment[0] != count]

    def choose(self):
        """End a look: keep the count whose steps took least time on average."""
        means = {count: total / steps for count, (steps, total) in self.timed.items() if steps}
        looked_before, before = self.expected is not None, self.chosen
        self.chosen = min(means, key=lambda count: (means[count], count))
        self.interval = min(2 * self.interval, self.max_interval) if looked_before and before == self.chosen \
            else self.base_interval
        self.expected, self.since_look = means[self.chosen], 0.0
        self.looks.append({"mean_ms": {count: round(1000 * value, 3) for count, value in means.items()},
                           "chosen": self.chosen})

    def take_looks(self):
        """The looks made since the last call (each {"mean_ms": {count: ms}, "chosen": count}), and forget them."""
        looks, self.looks = self.looks, []
        return looks

    def reset_counts(self):
        """Start counting the steps per thread count afresh (e.g. at an epoch's start); returns the old counts."""
        used, self.used = self.used, {count: 0 for count in self.counts}
        return used
