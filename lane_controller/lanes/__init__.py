"""Composition of one lane from its layout: real drivers behind the state machine's device Protocols.

The state machine (``fsm``) talks to devices only through Protocols and never imports a driver; the device
libraries (``plc``, ``readers``, ``vision``) never import the state machine. This package is the one place
that knows both: it loads a lane layout (``hardware_profiles/lanes/``), builds the drivers it names and
adapts them to the Protocols the lane runner takes.
"""
