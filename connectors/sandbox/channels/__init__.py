"""One simulation per channel of the sandbox world; connectors/sandbox/simulator.py runs them in order."""
