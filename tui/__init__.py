"""jobdeck's terminal: the `jobdeck` command (cli.py) and the Textual monitor (app.py).

Nothing here imports Textual at import time; the CLI stays fast and loads the app only when a
command opens it.
"""
