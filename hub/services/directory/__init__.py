"""What the hub knows about: customers, workflows and users, API keys, connections and their credentials."""
