from videolake.schemas.record import RECORD_SCHEMA, SCHEMA_VERSION, composition_key

__all__ = ["RECORD_SCHEMA", "SCHEMA_VERSION", "composition_key"]
