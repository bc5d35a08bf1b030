"""Item pipeline stages, one small class each: clean, relevance, dedup, store (see crawler/settings.py)."""
