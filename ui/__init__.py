"""Stage 3: the Gradio web app. It calls `bot.workspace.service` and holds no answering logic.

Gradio's usage analytics are turned off here, before any module of this package imports it.
"""

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
