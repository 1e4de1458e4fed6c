"""Clients of the systems leadsync reads from."""
