"""The thread chooser (lab.common.threads), driven by a fake timer: each thread count's step costs what the test says."""
import pytest

from lab.common.threads import ThreadChooser, candidate_counts


class FakeMachine:
    """A clock that moves on by the step cost of the thread count last set; ``cost`` maps count -> seconds."""

    def __init__(self, cost):
        self.cost, self.now, self.threads, self.sets = dict(cost), 0.0, None, []

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
                self.now += self.cost[self.threads]
                ran.append(threads)
        return ran


def chooser_for(machine, counts=(1, 2), **options):
    return ThreadChooser(counts, clock=machine.clock, set_threads=machine.set_threads, **options)


@pytest.mark.parametrize("cost, best", [({1: 0.010, 2: 0.006}, 2), ({1: 0.010, 2: 0.030}, 1),
                                        ({1: 0.010, 2: 0.0101}, 1)])
def test_a_look_keeps_the_count_whose_steps_were_shortest(cost, best):
    machine = FakeMachine(cost)
    chooser = chooser_for(machine)
    ran = machine.steps(chooser, 100)
    assert chooser.chosen == best
    assert ran[-80:] == [best] * 80  # after the look every step runs at the kept count
    assert chooser.looks[0]["median_ms"][1] == pytest.approx(1000 * cost[1])
    assert chooser.looks[0]["chosen"] == best


def test_the_look_alternates_the_counts_the_kept_one_first():
    machine = FakeMachine({1: 0.010, 2: 0.009})
    chooser = chooser_for(machine, per_round=3, rounds=2)
    assert machine.steps(chooser, 12) == [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2]
    chooser.look()  # the next look starts with the count kept now
    assert machine.steps(chooser, 12) == [2, 2, 2, 1, 1, 1, 2, 2, 2, 1, 1, 1]


def test_a_hopeless_count_is_left_after_one_step_and_a_clearly_slower_one_after_two():
    machine = FakeMachine({1: 0.001, 2: 0.100})  # two threads beside a busy program: 100 times slower
    chooser = chooser_for(machine, per_round=3, rounds=2)
    ran = machine.steps(chooser, 30)
    assert ran.count(2) == 1 and chooser.chosen == 1
    machine = FakeMachine({1: 0.001, 2: 0.003})  # three times slower: two steps show it
    chooser = chooser_for(machine, per_round=3, rounds=2)
    assert machine.steps(chooser, 30).count(2) == 2 and chooser.chosen == 1


def test_the_choice_changes_when_the_load_does():
    machine = FakeMachine({1: 0.010, 2: 0.030})  # a busy neighbour: one thread is best
    chooser = chooser_for(machine, window=50, drift=1.3)
    machine.steps(chooser, 100)
    assert chooser.chosen == 1
    machine.cost = {1: 0.014, 2: 0.006}  # the neighbour left, and one thread lost its memory bandwidth share too
    ran = machine.steps(chooser, 200)
    assert chooser.chosen == 2 and ran[-50:] == [2] * 50
    assert len(chooser.looks) == 2


def test_steady_steps_bring_no_new_look_and_a_noisy_machine_is_looked_at_less_and_less():
    machine = FakeMachine({1: 0.010, 2: 0.020})
    chooser = chooser_for(machine, window=50, max_window=400)
    machine.steps(chooser, 1000)
    assert len(chooser.looks) == 1  # nothing changed: no second look
    machine.cost = {1: 0.020, 2: 0.040}  # slower, but one thread is still best: each drift look doubles the window
    machine.steps(chooser, 1000)
    windows = chooser.window
    assert chooser.chosen == 1 and windows == 100
    machine.cost = {1: 0.010, 2: 0.020}
    machine.steps(chooser, 1000)
    assert chooser.window == 200


def test_one_count_means_no_choosing():
    machine = FakeMachine({3: 0.01})
    chooser = chooser_for(machine, counts=[3])
    assert machine.steps(chooser, 500) == [3] * 500
    assert machine.sets == [3] and chooser.looks == []


def test_the_counts_are_set_only_when_they_change():
    machine = FakeMachine({1: 0.010, 2: 0.006})
    chooser = chooser_for(machine, per_round=3, rounds=2)
    machine.steps(chooser, 40)
    assert machine.sets == [1, 2, 1, 2]


def test_steps_per_count_are_counted_and_reset():
    machine = FakeMachine({1: 0.001, 2: 0.100})
    chooser = chooser_for(machine)
    machine.steps(chooser, 30)
    assert chooser.reset_counts() == {1: 29, 2: 1}
    assert chooser.reset_counts() == {1: 0, 2: 0}


@pytest.mark.parametrize("most, counts", [(1, [1]), (2, [1, 2]), (3, [1, 2, 3]), (4, [1, 2, 4]),
                                          (6, [1, 2, 4, 6]), (16, [1, 2, 4, 8, 16])])
def test_candidate_counts(most, counts):
    assert candidate_counts(most) == counts
