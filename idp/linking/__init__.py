"""Linking Lufthansa Group ID profiles (upstream OpenID Connect providers)."""
