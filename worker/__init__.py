"""The worker process and the ``reentry`` command line: the top of the house, which wires
everything together (the infrastructure it stands on is ``core``); nothing imports it."""
