"""The user's seed articles: the theme's definition and the dedup baseline (see manifest.toml)."""
