"""Value types and customs rules: container numbers, plates, transport notes.

Imports nothing of the project outside `domain/`.
"""
