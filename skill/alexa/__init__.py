"""Alexa layer: handlers and interceptors translating envelopes to and from the pure player."""
