import dataclasses

from pravis_api.models.voice_interaction import VoiceInteraction
from pravis_api.repositories.interactions import NewInteraction


def test_new_interaction_matches_table() -> None:
    """The insert's dataclass must list exactly the table's columns."""
    table = VoiceInteraction.__table__  # type: ignore[attr-defined]
    columns = {column.name for column in table.columns}
    fields = {field.name for field in dataclasses.fields(NewInteraction)}
    assert fields == columns
