"""videolake.trainer: train a video language model on a built lake (the optional ``train`` extra).

The core install imports only this file (for the run folder's names below), so it never needs torch.
What is here:
- ``data``: a record -> chat messages built at load time (flat columns in, content parts out) and
  its videos decoded from the MP4 bytes with PyAV (no temporary files), with the clip's real frame
  rate and every frame's index handed to the processor as video metadata (Qwen2.5-VL turns them
  into ``second_per_grid_ts``, Qwen3-VL into ``<t seconds>`` text), resized to one frame budget;
- ``collate``: batches for SFT (labels only on the assistant turn) that carry every video tensor
  the processor returns (Qwen2.5-VL: ``pixel_values_videos``, ``video_grid_thw``, ``second_per_grid_ts``);
- ``tiny``: tiny random Qwen2.5-VL and Qwen3-VL built locally (``--model tiny``, ``tiny-qwen3-vl``).
"""

METRICS_FILE = "metrics.jsonl"  # in a run folder: one JSON line per logging step, drawn by `videolake inspect RUN`
