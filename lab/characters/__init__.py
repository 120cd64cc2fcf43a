"""Part 1, characters: the KMNIST data, the training loop and evaluation, and the figures."""
