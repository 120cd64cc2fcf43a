"""Choosing torch's CPU thread count by timing the training steps themselves, and choosing again when they slow.

On a free machine a small network trains faster on every core; beside
another busy program the threads wait for each other whenever one of them
loses its core, and one thread is several times faster. No fixed count is
right for both, so a ThreadChooser runs a few real training steps at each
candidate count in turn (a "look"), keeps the count whose median step was
shortest, and looks again at the start of every epoch and whenever the
steps at the kept count drift from what the look measured (the machine's
load changed). Nothing is thrown away: the looked-at steps are training
steps.

    chooser = ThreadChooser(candidate_counts(torch.get_num_threads()))
    for images, labels in batches:
        with chooser.step():
            ...  # one training step

The clock and the function that sets the count are arguments, so tests can
drive the choice with a fake timer.
"""
import contextlib
import statistics
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
    it). A look runs ``rounds`` rounds of ``per_round`` steps at each count,
    the kept count first, and keeps the count with the shortest median step.
    A count stops being looked at once it is clearly slower: its fastest of
    two steps ``hopeless`` times the best median, or one step ten times it
    (on a busy machine one step at a bad count can cost a hundred good ones).
    After a look, every ``window`` steps at the kept count are compared with
    the look's median: ``drift`` times slower or faster starts a new look;
    a drift look that keeps the same count doubles the window (up to
    ``max_window``), so a noisy machine is not looked at over and over.
    """

    def __init__(self, counts, per_round=3, rounds=2, window=50, max_window=1600, drift=1.3, hopeless=2.0,
                 clock=time.perf_counter, set_threads=set_torch_threads):
        self.counts = list(counts)
        self.per_round, self.rounds, self.drift, self.hopeless = per_round, rounds, drift, hopeless
        self.base_window, self.max_window, self.window = window, max_window, window
        self.clock, self.set_threads = clock, set_threads
        self.chosen, self.current = self.counts[0], None
        self.plan, self.samples, self.recent, self.drifted = [], {}, [], False
        self.expected = None  # the kept count's median step at the last look, in seconds
        self.looks = []  # one dict per look: {"median_ms": {count: ms}, "chosen": count}
        self.used = {count: 0 for count in self.counts}  # steps run at each count since reset_counts
        self.look()

    def look(self, drifted=False):
        """Compare the counts again on the next steps (nothing to compare with a single count)."""
        if len(self.counts) > 1:
            order = [self.chosen] + [count for count in self.counts if count != self.chosen]
            self.plan = [count for _ in range(self.rounds) for count in order for _ in range(self.per_round)]
            self.samples = {count: [] for count in self.counts}
        self.recent, self.drifted = [], drifted

    @contextlib.contextmanager
    def step(self):
        """Run one training step (the block) at the count due, and time it."""
        count = self.plan[0] if self.plan else self.chosen
        if count != self.current:
            self.set_threads(count)
            self.current = count
        started = self.clock()
        yield count
        self.record(count, self.clock() - started)

    def record(self, count, seconds):
        """Note one step of ``seconds`` at ``count``: part of a look, or a check on the kept count."""
        self.used[count] += 1
        if self.plan:
            self.plan.pop(0)
            self.samples[count].append(seconds)
            self.drop_hopeless()
            if not self.plan:
                self.choose()
            return
        self.recent.append(seconds)
        if len(self.recent) >= self.window and self.expected is not None:
            median = statistics.median(self.recent)
            self.recent = []
            if median > self.drift * self.expected or median * self.drift < self.expected:
                self.look(drifted=True)

    def drop_hopeless(self):
        """Take the counts that are clearly slower than the best so far out of the rest of the look."""
        timed = {count: times for count, times in self.samples.items() if len(times) >= 2}
        if not timed:
            return
        best = min(statistics.median(times) for times in timed.values())
        for count, times in self.samples.items():
            if times and (min(times) > 10 * best or (len(times) >= 2 and min(times) > self.hopeless * best)):
                self.plan = [planned for planned in self.plan if planned != count]

    def choose(self):
        """End a look: keep the count with the shortest median step."""
        medians = {count: statistics.median(times) for count, times in self.samples.items() if times}
        before, self.chosen = self.chosen, min(medians, key=lambda count: (medians[count], count))
        self.expected = medians[self.chosen]
        self.window = min(2 * self.window, self.max_window) if self.drifted and before == self.chosen \
            else self.base_window
        self.looks.append({"median_ms": {count: round(1000 * value, 3) for count, value in medians.items()},
                           "chosen": self.chosen})

    def reset_counts(self):
        """Start counting the steps per thread count afresh (e.g. at an epoch's start); returns the old counts."""
        used, self.used = self.used, {count: 0 for count in self.counts}
        return used
