"""Ingest: webhooks verified, stored and deduplicated (inbox), polls and backfills, retention."""
