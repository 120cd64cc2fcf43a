"""Part 2, the check network: the settings that check_main.py's flags resolve to."""
