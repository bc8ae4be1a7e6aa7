"""Assignment: the only writer of a customer's workflow, account managers and custom fields."""
