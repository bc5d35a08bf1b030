"""qpan: watch Vietnamese news for Ministry of Public Security / National Defence coordination."""

__version__ = "0.1.0"
