"""The worker process, the embedded stack and the ``reentry`` command line."""
