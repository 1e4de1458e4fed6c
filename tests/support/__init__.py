"""Helpers shared by the test suites (moto resources from template.yaml, Lambda stand-ins)."""
