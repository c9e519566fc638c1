"""The I/O side of videolake: ingest, frame sampling, encoding, shard writing, the Dask graph, the CLI."""
