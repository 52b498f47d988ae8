"""Customs enumerations, each member with its zh-TW and English label."""

from __future__ import annotations

from enum import StrEnum


class _Labelled(StrEnum):
    """A string enum whose members carry a zh-TW and an English label."""

    @property
    def label_zh(self) -> str:
        """The zh-TW label shown to staff and customs."""
        return _LABELS[type(self), self.value][0]

    @property
    def label_en(self) -> str:
        """The English label."""
        return _LABELS[type(self), self.value][1]

    @property
    def label(self) -> str:
        """Both labels, zh-TW first: `電子封條 (electronic seal)`."""
        zh, en = _LABELS[type(self), self.value]
        return f"{zh} ({en})"


class SealType(_Labelled):
    """Kind of seal listed on a transport note."""

    ELECTRONIC = "electronic"
    E_PAPER = "e_paper"
    VEHICLE_MOUNTED = "vehicle_mounted"
    OTHER = "other"


class TransportToolCategory(_Labelled):
    """保稅運貨工具類別: the transport-tool category code 1-7."""

    BONDED_TRACTOR_TRAILER = "1"
    BONDED_TRUCK = "2"
    ORDINARY_TRACTOR_TRAILER = "3"
    ORDINARY_TRUCK = "4"
    FREE_TRADE_PORT_FLEET = "5"
    LOGISTICS_FLEET = "6"
    POSTAL_VEHICLE = "7"


class MessageFunction(_Labelled):
    """CN message function, EDIFACT style: 9 original, 5 replace, 1 cancel."""

    ORIGINAL = "9"
    REPLACE = "5"
    CANCEL = "1"


class Direction(_Labelled):
    """Which way a lane moves cargo across the controlled-area boundary."""

    EXIT = "exit"
    ENTRY = "entry"


class MonitoringPhase(_Labelled):
    """Customs roll-out phase: phase 1 needs an officer to confirm vehicle seals, phase 2 does not."""

    PHASE_1 = "1"
    PHASE_2 = "2"


_LABELLED: list[tuple[_Labelled, str, str]] = [
    (SealType.ELECTRONIC, "電子封條", "electronic seal"),
    (SealType.E_PAPER, "電子紙封條", "e-paper seal"),
    (SealType.VEHICLE_MOUNTED, "車機封條", "vehicle-mounted seal"),
    (SealType.OTHER, "其他", "other"),
    (TransportToolCategory.BONDED_TRACTOR_TRAILER, "保稅聯結車", "bonded tractor-trailer"),
    (TransportToolCategory.BONDED_TRUCK, "保稅貨車", "bonded truck"),
    (TransportToolCategory.ORDINARY_TRACTOR_TRAILER, "一般聯結車", "ordinary tractor-trailer"),
    (TransportToolCategory.ORDINARY_TRUCK, "一般貨車", "ordinary truck"),
    (TransportToolCategory.FREE_TRADE_PORT_FLEET, "自由貿易港區車隊", "free-trade-port fleet"),
    (TransportToolCategory.LOGISTICS_FLEET, "物流車隊", "logistics fleet"),
    (TransportToolCategory.POSTAL_VEHICLE, "郵政車輛", "postal vehicle"),
    (MessageFunction.ORIGINAL, "新增", "original"),
    (MessageFunction.REPLACE, "更正", "replace"),
    (MessageFunction.CANCEL, "取消", "cancel"),
    (Direction.EXIT, "出站", "exit"),
    (Direction.ENTRY, "進站", "entry"),
    (MonitoringPhase.PHASE_1, "第一階段", "phase 1"),
    (MonitoringPhase.PHASE_2, "第二階段", "phase 2"),
]
# Keyed by (enum class, value): members of different enums share values ("1"), and StrEnum members
# hash as their value, so the members themselves would collide as keys.
_LABELS: dict[tuple[type[_Labelled], str], tuple[str, str]] = {
    (type(member), member.value): (zh, en) for member, zh, en in _LABELLED
}
