"""Scrapy spiders of qpan (``scrapy list``): ``news`` drives every source kind."""
