"""lane-controller: the controller of automated container-yard exit and entry lanes."""

__version__ = "0.1.0"
