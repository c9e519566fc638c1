from videolake.schemas.record import RECORD_SCHEMA, SCHEMA_VERSION

__all__ = ["RECORD_SCHEMA", "SCHEMA_VERSION"]
