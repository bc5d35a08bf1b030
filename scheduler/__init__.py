"""Scheduled crawl runs in child processes, and the alert outbox dispatched after each run."""
