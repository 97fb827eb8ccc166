"""Stage 3: the Gradio web app, one builder per tab or panel; it holds no answering logic.

It asks, rates, reviews and manages documents through `bot.workspace.service` (which applies
who may do what), renders answers with `bot.answering.layout`, exports with
`bot.transcripts.exports` and reads questionnaires with `bot.questionnaires`; it never
reaches `index/` (tests/test_architecture.py).

Gradio's usage analytics are turned off here, before any module of this package imports it.
"""

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
