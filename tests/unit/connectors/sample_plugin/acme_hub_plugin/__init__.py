"""A sample third-party connector, as a plugin installs it through the ``hub.connectors`` entry
point, with the harness it declares in ``hub.connectors.testing`` (test_installed_plugins.py)."""
