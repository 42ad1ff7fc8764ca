"""Bundled sample data: ``demo.jsonl``, the multichannel history ``omnichannel demo`` loads."""
