"""The lab's machinery, under the course's files and the lab's commands at the top level.

common      what every part needs: errors as sentences, number options, seeding and devices,
            atomic files, locks, figures, the checkpoint format and run records
characters  Part 1: KMNIST data, training and evaluation, plots
recurrent   Part 3: languages and their states, training, checkpoint series, tracing, plots
machines    Part 3: finite-state machines extracted from a network, their layout, drawing and text
report      report.py's steps, content and document
"""
