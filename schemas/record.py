"""The one record schema every task writes.

Flat columns only: trainers build chat messages at load time (mixed text/video
content parts stored in one Arrow column do not survive). Everything a task
needs beyond the common columns goes into ``meta`` (JSON), so boxes per frame,
several answer segments or timestamped events fit without a schema change.
"""

import pyarrow as pa

SCHEMA_VERSION = 1

RECORD_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("task", pa.string(), nullable=False),
        pa.field("subtype", pa.string(), nullable=False),
        pa.field("tier", pa.string(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
        # Source clip id relative to the sources root; empty for rendered (synthetic) videos.
        pa.field("source_id", pa.string(), nullable=False),
        # System prompt the task was designed with.
        pa.field("system", pa.string(), nullable=False),
        # One "<video>" placeholder per entry of `videos`, in presentation order.
        pa.field("question", pa.string(), nullable=False),
        pa.field("answer", pa.string(), nullable=False),
        # Step-by-step trace ending in the answer, for tasks that have one (else null).
        pa.field("reasoning", pa.string(), nullable=True),
        pa.field("videos", pa.list_(pa.binary()), nullable=False),
        # Constant frame rate of every video: frame i is shown at i / fps seconds.
        pa.field("fps", pa.float64(), nullable=False),
        # JSON: everything needed to re-derive `answer` (see generators/*.derive_answer).
        pa.field("meta", pa.string(), nullable=False),
    ],
    metadata={b"videolake.schema_version": str(SCHEMA_VERSION).encode()},
)
