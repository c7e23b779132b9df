"""Voice interactions: the insert of each turn and the recent turns of a session.

Both run on every assistant turn, as SQL text through `exec_driver_sql`
for the reason given in `repositories.products`.
"""

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel.ext.asyncio.session import AsyncSession

from pravis_api.models.voice_interaction import VoiceInteraction

_TABLE = VoiceInteraction.__table__  # type: ignore[attr-defined]
_COLUMNS = tuple(column.name for column in _TABLE.columns)
# The driver takes JSONB parameters as JSON text.
_JSON_COLUMNS = frozenset(
    column.name for column in _TABLE.columns if isinstance(column.type, JSONB)
)
_INSERT = (
    f"INSERT INTO voice_interactions ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join(f'${n}' for n in range(1, len(_COLUMNS) + 1))})"
)
_RECENT_TURNS = (
    "SELECT intent, entities, action, product_ids FROM voice_interactions "
    "WHERE session_id = $1 ORDER BY created_at DESC LIMIT $2"
)


@dataclass(slots=True)
class NewInteraction:
    """The values of a voice_interactions row to insert, one per column.

    A plain dataclass, because building a SQLModel table instance costs
    about 0.25 ms of CPU per turn for a row this code only writes.
    """

    id: uuid.UUID
    created_at: datetime
    user_id: uuid.UUID | None
    session_id: str
    source: str
    transcript: str
    intent: str
    entities: dict[str, Any]
    reply: str
    action: dict[str, Any] | None
    product_ids: list[uuid.UUID]
    success: bool
    audio_format: str | None = None
    audio_duration_s: float | None = None
    recording_blob: str | None = None
    stt_engine: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Turn:
    """What one earlier turn of a conversation asked and showed."""

    intent: str
    entities: dict[str, Any]
    action: dict[str, Any] | None
    product_ids: list[uuid.UUID]


async def add_interaction(session: AsyncSession, interaction: NewInteraction) -> None:
    """Insert the row and commit; IntegrityError if its user was deleted."""
    connection = await session.connection()
    values = tuple(
        json.dumps(value) if name in _JSON_COLUMNS and value is not None else value
        for name in _COLUMNS
        for value in [getattr(interaction, name)]
    )
    await connection.exec_driver_sql(_INSERT, values)
    await session.commit()


async def recent_turns(
    session: AsyncSession, session_id: str, limit: int
) -> list[Turn]:
    """The session's latest turns, newest first."""
    connection = await session.connection()
    result = await connection.exec_driver_sql(_RECENT_TURNS, (session_id, limit))
    return [Turn(**row) for row in result.mappings().all()]
