"""Item pipeline stages (clean, relevance, dedup, store) and the storage layer they write to."""
