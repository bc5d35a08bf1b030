"""Request ``meta`` keys the spider sets and the middlewares/extensions read.

Named once here so a typo cannot silently turn a feature off for some requests.
"""

from __future__ import annotations

SOURCE = "qpan_source"  # registry name of the source the request is made for
KIND = "qpan_kind"  # one of KINDS
OFFSITE_OK = "qpan_offsite_ok"  # came from a search source: may leave the source's domains
CONDITIONAL = "qpan_conditional"  # feed/sitemap: send ETag / If-Modified-Since validators
DEPTH = "qpan_depth"  # listing page number / sitemap nesting level

FEED, SITEMAP, LISTING, SEARCH, ARTICLE, DISCOVERY = "feed", "sitemap", "listing", "search", "article", "discovery"
PRIME = "prime"  # a URL fetched for the cookies it sets, before the source's feeds
KINDS = (FEED, SITEMAP, LISTING, SEARCH, ARTICLE, DISCOVERY, PRIME)

PROBE = "qpan_probe"  # a discovery guess (/sitemap.xml, /rss): a 404 there is not a source error
DISCOVERED = "qpan_discovered"  # a feed/sitemap found by discovery: record it if it parses
PRIME_REST = "qpan_prime_rest"  # the source's priming URLs still to fetch after this one
