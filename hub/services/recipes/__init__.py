"""Recipes as the hub runs them (the store, every version kept) and as integrators try them (dry runs)."""
