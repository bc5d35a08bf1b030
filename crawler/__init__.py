"""The Scrapy project: source registry, spiders, extraction and crawl-side middlewares."""
