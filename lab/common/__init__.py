"""What every part of the lab needs: errors, options, compute, files, locks, figures, checkpoints, records."""
