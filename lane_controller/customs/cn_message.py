"""The CN message as yard systems send it (JSON), validated with pydantic and mapped to the domain."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictInt,
    TypeAdapter,
    model_validator,
)

from lane_controller.domain.container_number import ContainerNumber
from lane_controller.domain.enums import Direction, MessageFunction, SealType, TransportToolCategory
from lane_controller.domain.plate import Plate, parse_written_plate
from lane_controller.domain.stations import StationTable
from lane_controller.domain.transport_note import (
    CN_NUMBER_PATTERN,
    SITE_CODE_PATTERN,
    CancelNotice,
    SealId,
    SealSpec,
    TransportNote,
    normalise_code,
)

MESSAGE_SCHEMA_ID = "https://lane-controller.invalid/schemas/cn-message.schema.json"


def _container(text: str) -> str:
    return str(ContainerNumber.parse(text))


def _plate(text: str) -> str:
    return str(parse_written_plate(text))


def _seal_id(text: str) -> str:
    return SealId.parse(text).value


Code = Annotated[str, AfterValidator(normalise_code)]
CnNumber = Annotated[Code, Field(pattern=CN_NUMBER_PATTERN, description="CN number, letters and digits")]
SiteCode = Annotated[Code, Field(pattern=SITE_CODE_PATTERN)]
ContainerText = Annotated[
    str,
    AfterValidator(_container),
    Field(
        description="ISO 6346 container number; spaces allowed, check digit verified",
        examples=["CSQU3054383"],
    ),
]
PlateText = Annotated[
    str,
    AfterValidator(_plate),
    Field(description="Taiwan plate; stored without the dash (KLA-1234 -> KLA1234)", examples=["KLA-1234"]),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class SealMessage(_Strict):
    """A seal listed on the CN: its id and type."""

    seal_id: Annotated[str, AfterValidator(_seal_id), Field(description="seal id, 4-32 letters or digits")]
    seal_type: SealType


class CNNote(_Strict):
    """An original (function 9) or replacing (function 5) CN."""

    function: Literal["9", "5"] = Field(description="9 original, 5 replace")
    cn_number: CnNumber
    direction: Direction
    origin_site_code: SiteCode = Field(description="site code (監管編號) of the yard that issues the CN")
    destination_station_code: SiteCode = Field(description="運往站代碼, shown with its Chinese name")
    containers: list[ContainerText] = Field(default_factory=list, max_length=2)
    tractor_plate: PlateText
    trailer_plate: PlateText | None = None
    transport_tool_category: TransportToolCategory = Field(description="保稅運貨工具類別 1-7")
    seals: list[SealMessage] = Field(
        default_factory=list, description="every seal on the truck, one per door"
    )
    release_instruction_code: Annotated[str, Field(pattern=r"^[0-9A-Z]$")] | None = Field(
        default=None, description="放行指示代碼; 1 or B require an electronic seal"
    )
    route_code: Annotated[Code, Field(pattern=r"^[A-Z0-9]{1,16}$")] | None = None
    time_limit_minutes: Annotated[StrictInt, Field(gt=0, le=7 * 24 * 60)] | None = None
    issued_at: AwareDatetime = Field(description="when the CN was issued, with its UTC offset")
    remarks: Annotated[str, Field(max_length=500)] | None = None

    _note: TransportNote | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _domain_rules(self) -> CNNote:
        self._note = self._build_note()
        return self

    def to_domain(self) -> TransportNote:
        """The domain note, built (and its cross-field rules checked) once during validation."""
        return self._note if self._note is not None else self._build_note()

    def _build_note(self) -> TransportNote:
        return TransportNote(
            cn_number=self.cn_number,
            function=MessageFunction(self.function),
            direction=self.direction,
            origin_site_code=self.origin_site_code,
            destination_station_code=self.destination_station_code,
            containers=tuple(ContainerNumber.parse(c) for c in self.containers),
            tractor_plate=Plate.parse(self.tractor_plate),
            trailer_plate=Plate.parse(self.trailer_plate) if self.trailer_plate else None,
            transport_tool_category=self.transport_tool_category,
            seals=tuple(SealSpec(SealId(s.seal_id), s.seal_type) for s in self.seals),
            release_instruction_code=self.release_instruction_code,
            issued_at=self.issued_at,
            route_code=self.route_code,
            time_limit=timedelta(minutes=self.time_limit_minutes) if self.time_limit_minutes else None,
            remarks=self.remarks,
        )


class CNCancel(_Strict):
    """A cancel message (function 1)."""

    function: Literal["1"] = Field(description="1 cancel")
    cn_number: CnNumber
    issued_at: AwareDatetime
    reason: Annotated[str, Field(max_length=500)] | None = None

    def to_domain(self) -> CancelNotice:
        """The domain cancel notice."""
        return CancelNotice(self.cn_number, self.issued_at, self.reason)


CNMessage = Annotated[CNNote | CNCancel, Field(discriminator="function")]
CN_MESSAGE_ADAPTER: TypeAdapter[CNNote | CNCancel] = TypeAdapter(CNMessage)


def parse_cn_message(record: Any, stations: StationTable | None = None) -> CNNote | CNCancel:
    """Validate one decoded JSON record; raises pydantic's `ValidationError` or `ValueError`."""
    message = CN_MESSAGE_ADAPTER.validate_python(record)
    if stations is not None and isinstance(message, CNNote):
        stations.get(message.destination_station_code)
    return message


def message_document(message: CNNote | CNCancel) -> str:
    """Canonical JSON of a validated message, as stored and sent to customs."""
    data = message.model_dump(mode="json", exclude_none=True)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a CN message (written to docs/cn-message.schema.json)."""
    schema = CN_MESSAGE_ADAPTER.json_schema()
    schema["$id"] = MESSAGE_SCHEMA_ID
    schema["title"] = "CN message (運送單)"
    return schema


def issued_at_of(message: CNNote | CNCancel) -> datetime:
    """When the message was issued."""
    return message.issued_at
