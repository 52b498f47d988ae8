"""Lane state machine (``transitions``) and the lane runner that wires devices to it.

Modules: ``states`` (LaneState), ``events`` (typed events), ``protocols`` (device, clock and store
ports), ``config`` (LaneConfig), ``decisions`` (pure rules and verdicts), ``table`` (the transition
table as data), ``engine`` (the only user of ``transitions``), ``gate`` (the barrier gate: invariants 1
and 2), ``journal`` (write-ahead batches), ``machine`` (LaneMachine), ``recovery`` (restart),
``runner`` (LaneRunner, LaneHost, LaneStatus),
``fakes`` (in-memory devices and a manual clock for tests, benchmarks and demos).
"""
