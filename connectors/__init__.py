"""Vendor connectors: verify, parse and normalise webhooks from billing platforms and the CRM.

Importing this package does nothing: connector classes are loaded lazily through
``connectors.registry`` so a missing vendor SDK only affects the connector that needs it.
"""
