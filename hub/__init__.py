"""The hub: vendor webhooks in, YAML recipes, one assignment service with source precedence."""
