from videolake.schemas.record import RECORD_SCHEMA, SCHEMA_VERSION, TASKS

__all__ = ["RECORD_SCHEMA", "SCHEMA_VERSION", "TASKS"]
