"""``netscope run``: a user's training or inference script, watched while it runs.

The script runs in a child process (``child.py``) as ``__main__`` with netscope's watcher
(``watcher.py``) installed first; the watcher streams typed messages (``messages.py``) over a pipe
(``channel.py``) to the parent (``session.py``), which folds them into a ``RunReport``
(``aggregate.py``). Nothing here imports textual.
"""
