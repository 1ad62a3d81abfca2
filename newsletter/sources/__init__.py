"""Ingestion: fetch each topic's sources, normalise their items, store them deduplicated."""
