from datetime import UTC, datetime

import pytest

from lane_controller.domain.cn_lifecycle import LifecycleOutcome, NoteStatus, StoredNoteState, decide
from lane_controller.domain.enums import MessageFunction

ORIGINAL, REPLACE, CANCEL = MessageFunction.ORIGINAL, MessageFunction.REPLACE, MessageFunction.CANCEL
ACTIVE = StoredNoteState(2, NoteStatus.ACTIVE, None, None)
CANCELLED = StoredNoteState(3, NoteStatus.CANCELLED, None, None)
CONFIRMED = StoredNoteState(1, NoteStatus.ACTIVE, "officer-7", datetime(2026, 11, 1, 8, 0, tzinfo=UTC))


def test_original_creates_version_one():
    decision = decide("CN0001", ORIGINAL, None)
    assert decision.accepted
    assert decision.outcome is LifecycleOutcome.CREATE
    assert decision.new_version == 1


def test_original_for_existing_note_is_rejected_unless_identical_resend():
    decision = decide("CN0001", ORIGINAL, ACTIVE)
    assert not decision.accepted
    assert decision.reason is not None and "already exists (version 2" in decision.reason
    resend = decide("CN0001", ORIGINAL, ACTIVE, same_as_current=True)
    assert resend.accepted and resend.outcome is LifecycleOutcome.UNCHANGED and resend.new_version == 2


def test_replace_supersedes_and_cancel_adds_a_version():
    replace = decide("CN0001", REPLACE, ACTIVE)
    assert (replace.outcome, replace.new_version) == (LifecycleOutcome.SUPERSEDE, 3)
    cancel = decide("CN0001", CANCEL, ACTIVE)
    assert (cancel.outcome, cancel.new_version) == (LifecycleOutcome.CANCEL, 3)


@pytest.mark.parametrize("function", [REPLACE, CANCEL])
def test_officer_confirmed_note_can_no_longer_change(function):
    decision = decide("CN0001", function, CONFIRMED)
    assert not decision.accepted
    assert decision.reason is not None
    assert "confirmed by officer officer-7" in decision.reason


@pytest.mark.parametrize("function", [REPLACE, CANCEL])
def test_unknown_or_cancelled_note_cannot_change(function):
    assert "is unknown" in (decide("CN0001", function, None).reason or "")
    assert "was cancelled" in (decide("CN0001", function, CANCELLED).reason or "")


def test_resent_original_of_cancelled_note_is_rejected():
    assert not decide("CN0001", ORIGINAL, CANCELLED, same_as_current=True).accepted
