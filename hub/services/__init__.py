"""Service layer: every use case runs here, inside one unit of work."""
