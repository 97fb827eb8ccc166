"""Stage 2: retrieve passages, answer with verified citations, and the command line."""
