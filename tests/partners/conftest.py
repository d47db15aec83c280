from tests.partners import simulator

# The simulator's fixtures, shared with tests/activities.
clock, simulation, transport, sim = simulator.clock, simulator.simulation, simulator.transport, simulator.sim
