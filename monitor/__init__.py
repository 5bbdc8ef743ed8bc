"""Monitoring of the district's New Era Civilization Practice network (新时代文明实践)."""
