"""Prefect flows of xml130. Each flow is a thin layer over the library in src/xml130."""
