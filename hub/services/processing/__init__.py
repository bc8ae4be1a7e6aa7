"""Processing: one stored event through the recipes to assignment writes; retries; replays."""
