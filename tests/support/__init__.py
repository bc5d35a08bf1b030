"""Helpers shared by the tests: services, database fixtures, CLI runner."""
