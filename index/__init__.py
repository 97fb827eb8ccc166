"""Stage 1: load the corpus, chunk it with exact character spans, embed it, keep it in Chroma."""
