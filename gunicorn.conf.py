"""gunicorn's settings for chogi, beyond the command line's workers and bind address.

gunicorn reads ./gunicorn.conf.py from the directory it starts in (the project root); started
elsewhere, pass ``-c /path/to/chogi/gunicorn.conf.py``.
"""

import gc

# Above the app's own limit on database waits (DATABASE_WAIT_SECONDS, 20 s): a request that
# waits for a lock answers 503 database_busy itself, never gunicorn's bare page after a kill.
timeout = 60


def post_worker_init(worker) -> None:
    """Freeze what start-up made once the worker has loaded the app.

    The app's modules, models, compiled templates and url map live as long as the worker.
    Frozen, the garbage collector stops walking them again on every full collection. The app is
    loaded in each worker, not in the master (no ``preload_app``), so this runs in the worker
    rather than before the fork.
    """
    gc.freeze()
