"""The article item that flows from extraction through every pipeline stage to storage."""

from __future__ import annotations

import scrapy


class ArticleItem(scrapy.Item):
    # set by the spider / extraction
    url = scrapy.Field()  # the URL fetched (after redirects)
    canonical_url = scrapy.Field()  # canonicalised <link rel=canonical> / og:url / url
    source = scrapy.Field()  # registry name
    title = scrapy.Field()
    published = scrapy.Field()  # timezone-aware datetime or None
    author = scrapy.Field()
    section = scrapy.Field()
    language = scrapy.Field()
    body_html = scrapy.Field()  # main-content HTML fragment, input of the clean stage
    methods = scrapy.Field()  # {field: method that extracted it}, for debugging
    fetched_at = scrapy.Field()  # timezone-aware datetime
    seed_name = scrapy.Field()  # set by the seed loader only (seeds/manifest.toml name)
    # set by the clean stage
    raw_text = scrapy.Field()
    text = scrapy.Field()
    truncated = scrapy.Field()
    # set by the relevance stage
    relevance = scrapy.Field()
    relevant = scrapy.Field()
    matched_terms = scrapy.Field()  # {term: count}
    explanation = scrapy.Field()  # why it is (not) relevant, for `qpan extract`; not stored
    # set by the prepare stage (in a page worker, off the crawl process): the search index's words
    search_document = scrapy.Field()
    # set by the dedup stage
    content_hash = scrapy.Field()
    minhash = scrapy.Field()  # bytes: the MinHash signature
    band_keys = scrapy.Field()  # list[(band_index, band_hash)]
    duplicate_of = scrapy.Field()  # article id or None
    cluster = scrapy.Field()  # article id of the cluster's first member or None
