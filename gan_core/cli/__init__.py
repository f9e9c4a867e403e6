"""The command line: `gan COMMAND` (or `python -m gan_core COMMAND`)."""
