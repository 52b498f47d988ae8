"""The lane state machine and the lane runner that wires devices to it."""
