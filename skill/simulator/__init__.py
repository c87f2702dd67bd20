"""Offline simulator: local understanding, Alexa-like sessions, response checks and local speech."""
