"""Read-side queries: the run log and the inbox as ops read them (filters, paging)."""
