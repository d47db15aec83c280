"""What the API and the worker both stand on: the settings, the Temporal connection and
data converter, the payload codec, tracing and metrics, and the typed client calls that
more than one process makes.

Below the API and the worker: it imports ``domain`` and, for typed Temporal references,
``workflows``; never ``api``, ``worker``, ``activities`` or ``store`` (the import contracts
in ``pyproject.toml`` keep it so).
"""
