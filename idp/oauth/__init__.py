"""Authlib wiring: ``server.py`` registers every grant and endpoint in one function."""
