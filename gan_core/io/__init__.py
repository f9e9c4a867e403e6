"""Files in and out: the one checkpoint format, image grids/PNG/GIF, and the checks on anything uploaded."""
