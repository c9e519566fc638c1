"""The commands users run on a built dataset (validate, inspect, score, export, publish, curate,
harden) and the CLI that is their one entry point. Each is a thin layer over the pipeline and the
dataset owner (``videolake.pipeline.dataset``); none of them builds shards of its own."""
