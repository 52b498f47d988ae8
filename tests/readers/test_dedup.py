"""Tag de-duplication and merging, on a manual clock."""

from __future__ import annotations

from lane_controller.readers.messages import TagMsg
from lane_controller.readers.rfid import TagDeduplicator, merge_tags


def test_window() -> None:
    now = [0.0]
    dedup = TagDeduplicator(2.0, lambda: now[0])
    assert dedup.fresh("AA")
    now[0] = 1.5
    assert not dedup.fresh("AA")  # heard again within the window: suppressed, and the window restarts
    now[0] = 3.0
    assert not dedup.fresh("AA")
    now[0] = 5.1
    assert dedup.fresh("AA")
    assert dedup.fresh("BB")


def test_merge_keeps_the_strongest_hearing_in_first_heard_order() -> None:
    tags = [TagMsg(1, "BB", 1, -70), TagMsg(1, "AA", 1, -60), TagMsg(1, "BB", 2, -40)]
    assert [(t.epc, t.antenna, t.rssi) for t in merge_tags(tags)] == [("BB", 2, -40), ("AA", 1, -60)]
