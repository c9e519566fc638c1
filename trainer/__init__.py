"""videolake.trainer: train a video language model on a built lake (optional extra ``videolake[train]``).

The core install never imports this package, so it never needs torch. What is here:
- ``data``: a record -> chat messages built at load time (flat columns in, content parts out) and
  its videos decoded from the MP4 bytes with PyAV (no temporary files), with the clip's real frame
  rate handed to the processor as video metadata (``fps`` alone makes Qwen2.5-VL assume 24 fps);
- ``collate``: batches for SFT (labels only on the assistant turn) that carry every video tensor
  the model needs: ``pixel_values_videos``, ``video_grid_thw`` and ``second_per_grid_ts``.
"""
