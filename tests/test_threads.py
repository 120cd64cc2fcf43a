"""The thread chooser (lab.common.threads), driven by a fake timer: each thread count's step costs what the test says."""
import pytest

from lab.common.threads import ThreadChooser, candidate_counts


class FakeMachine:
    """A clock that moves on by the step cost of the thread count last set.

    ``cost`` maps count -> seconds per step, or -> a function of how many
    steps have run at that count (to make some steps slow).
    """

    def __init__(self, cost):
        self.cost, self.now, self.threads, self.sets = dict(cost), 0.0, None, []
        self.steps_at = {}

    def clock(self):
        return self.now

    def set_threads(self, count):
        self.threads = count
        self.sets.append(count)

    def steps(self, chooser, count):
        """Run ``count`` steps; returns the thread count each ran at."""
        ran = []
        for _ in range(count):
            with chooser.step() as threads:
                assert threads == self.threads  # the step runs at the count the chooser set
                cost = self.cost[threads]
                done = self.steps_at.get(threads, 0)
                self.now += cost(done) if callable(cost) else cost
                self.steps_at[threads] = done + 1
                ran.append(threads)
        return ran


def chooser_for(machine, counts=(1, 2), **options):
    return ThreadChooser(counts, clock=machine.clock, set_threads=machine.set_threads, **options)


@pytest.mark.parametrize("cost, best", [({1: 0.010, 2: 0.006}, 2), ({1: 0.010, 2: 0.030}, 1),
                                        ({1: 0.010, 2: 0.0101}, 1)])
def test_a_look_keeps_the_count_whose_steps_took_least_time(cost, best):
    machine = FakeMachine(cost)
    chooser = chooser_for(machine)
    ran = machine.steps(chooser, 200)
    assert chooser.chosen == best
    assert ran[-100:] == [best] * 100  # after the look every step runs at the kept count
    assert chooser.looks[0]["mean_ms"][1] == pytest.approx(1000 * cost[1])
    assert chooser.looks[0]["chosen"] == best


def test_segments_last_their_time_and_the_kept_count_goes_first():
    machine = FakeMachine({1: 1 / 32, 2: 1 / 64})  # times a float adds up exactly
    chooser = chooser_for(machine, rounds=2, segment_steps=3, segment_s=0.125)
    assert machine.steps(chooser, 24) == [1] * 4 + [2] * 8 + [1] * 4 + [2] * 8  # 1/8 s each
    assert chooser.chosen == 2
    chooser.look()
    assert machine.steps(chooser, 24) == [2] * 8 + [1] * 4 + [2] * 8 + [1] * 4
    machine = FakeMachine({1: 0.200, 2: 0.300})
    chooser = chooser_for(machine, segment_steps=3, segment_s=0.1)
    assert machine.steps(chooser, 12) == [1] * 3 + [2] * 3 + [1] * 3 + [2] * 3  # slow steps: three each


def test_the_mean_decides_not_the_median():
    """Beside a busy program most two-thread steps are quick and one in 50 waits 95 ms for a core."""
    spiky = lambda done: 0.095 if done % 50 == 49 else 0.0005
    machine = FakeMachine({1: 0.0006, 2: spiky})
    chooser = chooser_for(machine)
    machine.steps(chooser, 2000)
    assert chooser.chosen == 1
    assert machine.steps_at[2] == 50  # left at its first slow step: its mean was then (49 * 0.5 + 95) / 50 ms


def test_a_hopeless_count_is_left_after_one_step_and_a_clearly_slower_one_after_two():
    machine = FakeMachine({1: 0.001, 2: 0.100})  # a hundred times slower
    chooser = chooser_for(machine)
    ran = machine.steps(chooser, 400)
    assert ran.count(2) == 1 and chooser.chosen == 1
    machine = FakeMachine({1: 0.001, 2: 0.003})  # three times slower: two steps show it
    chooser = chooser_for(machine)
    assert machine.steps(chooser, 400).count(2) == 2 and chooser.chosen == 1


def test_the_choice_changes_when_the_load_does():
    machine = FakeMachine({1: 0.010, 2: 0.030})  # a busy neighbour: one thread is best
    chooser = chooser_for(machine, window_s=1.0, drift=1.3)
    machine.steps(chooser, 100)
    assert chooser.chosen == 1 and len(chooser.looks) == 1
    machine.cost = {1: 0.014, 2: 0.006}  # the neighbour left, and one thread lost its share of memory bandwidth
    ran = machine.steps(chooser, 200)  # 1 s of slower steps shows the drift, then a look
    assert chooser.chosen == 2 and ran[-50:] == [2] * 50
    assert len(chooser.looks) == 2 and chooser.interval == 10.0


def test_looks_come_at_doubling_intervals_while_nothing_changes():
    """Steps of 10 ms for 300 s: looks after 10, 30, 70, 150 and 230 s of steps (intervals 10, 20, 40, 80, 80)."""
    machine = FakeMachine({1: 0.010, 2: 0.020})
    chooser = chooser_for(machine, interval_s=10.0, max_interval_s=80.0)
    machine.steps(chooser, 30_000)
    assert len(chooser.looks) == 6 and chooser.interval == 80.0
    assert all(look["chosen"] == 1 for look in chooser.looks)


def test_one_count_means_no_choosing():
    machine = FakeMachine({3: 0.01})
    chooser = chooser_for(machine, counts=[3])
    assert machine.steps(chooser, 5000) == [3] * 5000
    assert machine.sets == [3] and chooser.looks == []


def test_the_counts_are_set_only_when_they_change():
    machine = FakeMachine({1: 0.010, 2: 0.006})
    chooser = chooser_for(machine)
    machine.steps(chooser, 200)
    assert machine.sets == [1, 2, 1, 2]


def test_steps_per_count_are_counted_and_reset():
    machine = FakeMachine({1: 0.001, 2: 0.100})
    chooser = chooser_for(machine)
    machine.steps(chooser, 300)
    assert chooser.reset_counts() == {1: 299, 2: 1}
    assert chooser.reset_counts() == {1: 0, 2: 0}


@pytest.mark.parametrize("most, counts", [(1, [1]), (2, [1, 2]), (3, [1, 2, 3]), (4, [1, 2, 4]),
                                          (6, [1, 2, 4, 6]), (16, [1, 2, 4, 8, 16])])
def test_candidate_counts(most, counts):
    assert candidate_counts(most) == counts


def test_taking_the_looks_each_epoch_does_not_restart_the_doubling():
    """kuzu_main takes each epoch's looks for its record; the interval goes on doubling all the same."""
    machine = FakeMachine({1: 0.010, 2: 0.020})
    chooser = chooser_for(machine, interval_s=10.0, max_interval_s=80.0)
    taken = []
    for _ in range(30):
        machine.steps(chooser, 1000)  # 10 s of steps, as an epoch
        taken += chooser.take_looks()
    assert len(taken) == 6 and chooser.interval == 80.0 and chooser.looks == []


def test_faster_steps_at_the_kept_count_also_start_a_look():
    """The load can drop as well as rise: steps at the kept count 1.3 times faster than the look measured mean
    the machine changed, and the counts are compared again at once, not only at the next regular look (10 s)."""
    machine = FakeMachine({1: 0.010, 2: 0.030})  # a busy neighbour: one thread is best
    chooser = chooser_for(machine, window_s=1.0, drift=1.3, interval_s=10.0)
    machine.steps(chooser, 100)
    assert chooser.chosen == 1 and len(chooser.looks) == 1
    machine.cost = {1: 0.005, 2: 0.002}  # the neighbour left: every count is faster, two threads most
    ran = machine.steps(chooser, 400)  # 1 s at 5 ms a step shows the drift (2 s of steps, far from 10 s)
    assert len(chooser.looks) == 2 and chooser.chosen == 2 and ran[-50:] == [2] * 50


def test_a_drift_restarts_the_doubling_even_when_the_same_count_is_kept():
    """Looks that keep the count double the interval (10, 20, 40 s); a drift starts a look and the interval again
    from 10 s, so the look after it, keeping the same count, leaves 20 s."""
    machine = FakeMachine({1: 0.010, 2: 0.020})
    chooser = chooser_for(machine, window_s=1.0, drift=1.3, interval_s=10.0, max_interval_s=80.0)
    machine.steps(chooser, 4000)  # looks at 0, 10 and 30 s of steps: the interval is now 40 s
    assert len(chooser.looks) == 3 and chooser.interval == 40.0
    machine.cost = {1: 0.020, 2: 0.040}  # everything twice as slow: one thread is still best
    machine.steps(chooser, 200)
    assert len(chooser.looks) == 4 and chooser.chosen == 1 and chooser.interval == 20.0


def test_a_count_two_and_a_half_times_slower_is_left_after_two_steps_and_one_below_twice_is_not():
    machine = FakeMachine({1: 0.001, 2: 0.0025})
    chooser = chooser_for(machine, segment_s=0.01)
    assert machine.steps(chooser, 400).count(2) == 2 and chooser.chosen == 1
    machine = FakeMachine({1: 0.001, 2: 0.0019})
    chooser = chooser_for(machine, segment_s=0.01)
    assert machine.steps(chooser, 400).count(2) == 2 * 6 and chooser.chosen == 1  # both rounds of 6 steps (0.0114 s >= 0.01)


def test_equally_fast_counts_keep_the_fewer_threads():
    """A tie leaves the cores to other programs: the smaller count is kept."""
    machine = FakeMachine({1: 1 / 64, 2: 1 / 64, 4: 1 / 64})  # times a float adds up exactly
    chooser = chooser_for(machine, counts=(4, 2, 1))
    machine.steps(chooser, 100)
    assert chooser.looks[0]["chosen"] == 1 and chooser.chosen == 1


def test_the_kept_count_is_checked_only_after_enough_steps():
    """A check needs segment_steps steps as well as window_s seconds: one slow step alone starts no look."""
    machine = FakeMachine({1: 0.010, 2: 0.030})
    chooser = chooser_for(machine, window_s=1.0, drift=1.3, segment_steps=3, interval_s=100.0)
    while not chooser.looks:  # the first look, to its last step
        machine.steps(chooser, 1)
    assert chooser.chosen == 1 and not chooser.segments
    machine.cost = {1: 1.5, 2: 0.030}
    machine.steps(chooser, 1)  # 1.5 s: past window_s, but one step
    assert not chooser.segments and len(chooser.looks) == 1
    machine.steps(chooser, 2)  # the third step: the check sees the drift and a look begins
    assert chooser.segments
