"""Part 3, finite-state machines: extraction from a network's states, validation, naming, layout, drawing, text."""
