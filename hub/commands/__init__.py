"""CLI commands, one module per group; each calls one service function."""
