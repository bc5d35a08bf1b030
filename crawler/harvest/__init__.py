"""Pure parsers for the pages that lead to articles: feeds, sitemaps, listings, search, discovery.

They take bytes or a response and return URLs (with dates where the page gives them);
the ``news`` spider turns those into requests. Kept free of Scrapy's engine so they are
tested on plain strings.
"""
