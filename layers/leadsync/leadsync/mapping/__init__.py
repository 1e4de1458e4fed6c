"""Pure mappings between source objects and the canonical model."""
