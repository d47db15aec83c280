"""One router per simulated partner, and the simulator's own admin routes (``/_sim``)."""
