"""Part 3, recurrent networks: languages and their states, training, checkpoint series, tracing, plots."""
