"""The learn page: page.py is the script; the modules beside it hold its widgets and computation."""
