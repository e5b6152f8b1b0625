"""The worker: a spawned process that loads the user's model and runs the engine on it, so the
CLI and the app never import the model (a crash, a hang or an OOM takes down only the worker).

- request.py: what the parent asks for, one picklable value (``WorkerRequest``);
- process.py: the worker's side (``worker_main``);
- session.py: the parent's side (``WorkerSession``, ``run_profile``, ``report_in_worker``);
- crash.py: what a dead worker left behind, read back into one error.
"""
