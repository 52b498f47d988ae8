"""Initial schema: lanes, sessions, reads, seals, barrier commands, transport notes, audit log, outbox.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64


def _bigint_pk() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "lanes",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("site_code", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_lanes"),
        sa.CheckConstraint("direction IN ('exit', 'entry')", name="ck_lanes_direction"),
    )

    op.create_table(
        "transport_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cn_number", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("origin_site_code", sa.String(16), nullable=False),
        sa.Column("destination_station_code", sa.String(16), nullable=False),
        sa.Column("tractor_plate", sa.String(16), nullable=False),
        sa.Column("trailer_plate", sa.String(16), nullable=True),
        sa.Column("officer_confirmed_by", sa.String(64), nullable=True),
        sa.Column("officer_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_transport_notes"),
        sa.UniqueConstraint("cn_number", name="uq_transport_notes_cn_number"),
        sa.CheckConstraint("status IN ('active', 'cancelled')", name="ck_transport_notes_status"),
        sa.CheckConstraint("direction IN ('exit', 'entry')", name="ck_transport_notes_direction"),
    )
    op.create_index("ix_transport_notes_tractor_plate", "transport_notes", ["tractor_plate"])
    op.create_index("ix_transport_notes_trailer_plate", "transport_notes", ["trailer_plate"])

    op.create_table(
        "transport_note_versions",
        sa.Column("id", _bigint_pk(), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("message_function", sa.String(1), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_transport_note_versions"),
        sa.ForeignKeyConstraint(
            ["note_id"], ["transport_notes.id"], name="fk_transport_note_versions_note_id_transport_notes"
        ),
        sa.UniqueConstraint("note_id", "version", name="uq_transport_note_versions_note_id_version"),
        sa.CheckConstraint(
            "message_function IN ('9', '5', '1')", name="ck_transport_note_versions_message_function"
        ),
    )

    op.create_table(
        "transport_note_containers",
        sa.Column("id", _bigint_pk(), nullable=False),
        sa.Column("version_id", _bigint_pk(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("container_number", sa.String(11), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_transport_note_containers"),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["transport_note_versions.id"],
            name="fk_transport_note_containers_version_id_transport_note_versions",
        ),
        sa.UniqueConstraint(
            "version_id", "position", name="uq_transport_note_containers_version_id_position"
        ),
    )
    op.create_index(
        "ix_transport_note_containers_container_number", "transport_note_containers", ["container_number"]
    )

    op.create_table(
        "transport_note_seals",
        sa.Column("id", _bigint_pk(), nullable=False),
        sa.Column("version_id", _bigint_pk(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("seal_id", sa.String(32), nullable=False),
        sa.Column("seal_type", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_transport_note_seals"),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["transport_note_versions.id"],
            name="fk_transport_note_seals_version_id_transport_note_versions",
        ),
        sa.UniqueConstraint("version_id", "position", name="uq_transport_note_seals_version_id_position"),
    )
    op.create_index("ix_transport_note_seals_seal_id", "transport_note_seals", ["seal_id"])

    op.create_table(
        "lane_sessions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("lane_id", sa.String(32), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("transport_note_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_lane_sessions"),
        sa.ForeignKeyConstraint(["lane_id"], ["lanes.id"], name="fk_lane_sessions_lane_id_lanes"),
        sa.ForeignKeyConstraint(
            ["transport_note_id"],
            ["transport_notes.id"],
            name="fk_lane_sessions_transport_note_id_transport_notes",
        ),
        sa.CheckConstraint("direction IN ('exit', 'entry')", name="ck_lane_sessions_direction"),
    )
    op.create_index("ix_lane_sessions_lane_id_started_at", "lane_sessions", ["lane_id", "started_at"])
    op.create_index("ix_lane_sessions_transport_note_id", "lane_sessions", ["transport_note_id"])

    op.create_table(
        "reads",
        sa.Column("id", _bigint_pk(), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.String(64), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("camera", sa.String(64), nullable=True),
        sa.Column("image_sha256", sa.CHAR(64), nullable=True),
        sa.Column("box", sa.JSON(), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reads"),
        sa.ForeignKeyConstraint(
            ["session_id"], ["lane_sessions.id"], name="fk_reads_session_id_lane_sessions"
        ),
        sa.CheckConstraint("kind IN ('plate', 'container', 'rfid')", name="ck_reads_kind"),
    )
    op.create_index("ix_reads_session_id", "reads", ["session_id"])

    op.create_table(
        "seal_events",
        sa.Column("id", _bigint_pk(), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=True),
        sa.Column("seal_id", sa.String(32), nullable=False),
        sa.Column("operation", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("battery_pct", sa.Integer(), nullable=True),
        sa.Column("cn_number", sa.String(32), nullable=True),
        sa.Column("device_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_seal_events"),
        sa.ForeignKeyConstraint(
            ["session_id"], ["lane_sessions.id"], name="fk_seal_events_session_id_lane_sessions"
        ),
        sa.CheckConstraint("operation IN ('status', 'lock', 'unlock')", name="ck_seal_events_operation"),
        sa.CheckConstraint(
            "status IS NULL OR status IN ('sealed', 'opened', 'tampered')", name="ck_seal_events_status"
        ),
    )
    op.create_index("ix_seal_events_session_id", "seal_events", ["session_id"])
    op.create_index("ix_seal_events_seal_id", "seal_events", ["seal_id"])

    op.create_table(
        "barrier_commands",
        sa.Column("id", _bigint_pk(), nullable=False),
        sa.Column("lane_id", sa.String(32), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=True),
        sa.Column("command", sa.String(8), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("decision_audit_seq", sa.BigInteger(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_barrier_commands"),
        sa.ForeignKeyConstraint(["lane_id"], ["lanes.id"], name="fk_barrier_commands_lane_id_lanes"),
        sa.ForeignKeyConstraint(
            ["session_id"], ["lane_sessions.id"], name="fk_barrier_commands_session_id_lane_sessions"
        ),
        sa.CheckConstraint(
            "command IN ('open', 'close', 'stop', 'reset')", name="ck_barrier_commands_command"
        ),
    )
    op.create_index("ix_barrier_commands_lane_id_seq", "barrier_commands", ["lane_id", "seq"])
    op.create_index("ix_barrier_commands_session_id", "barrier_commands", ["session_id"])

    op.create_table(
        "audit_log",
        sa.Column("seq", _bigint_pk(), autoincrement=False, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lane_id", sa.String(32), nullable=True),
        sa.Column("session_id", sa.String(36), nullable=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(64), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.CHAR(64), nullable=False),
        sa.Column("entry_hash", sa.CHAR(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_recorded_at", "audit_log", ["recorded_at"])
    op.create_index("ix_audit_log_lane_id", "audit_log", ["lane_id"])

    audit_head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.CHAR(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
        sa.CheckConstraint("id = 1", name="ck_audit_head_single_row"),
    )
    op.bulk_insert(audit_head, [{"id": 1, "last_seq": 0, "last_hash": GENESIS_HASH}])

    op.create_table(
        "outbox",
        sa.Column("id", _bigint_pk(), nullable=False),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("message_key", sa.String(128), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("message_key", name="uq_outbox_message_key"),
    )
    op.create_index("ix_outbox_acked_at_next_attempt_at", "outbox", ["acked_at", "next_attempt_at"])


def downgrade() -> None:
    for table in (
        "outbox",
        "audit_head",
        "audit_log",
        "barrier_commands",
        "seal_events",
        "reads",
        "lane_sessions",
        "transport_note_seals",
        "transport_note_containers",
        "transport_note_versions",
        "transport_notes",
        "lanes",
    ):
        op.drop_table(table)
