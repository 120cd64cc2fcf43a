"""Part 2, the check network: the data, the optimiser, the training with restarts, the read-outs, the plots and
the settings; the exercise itself is check.py."""
