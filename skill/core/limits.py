"""Alexa's limits on one response, each in one place: the renderer keeps within them and the checks test them."""

MAX_BREAK_MS = 10_000
"""Longest single <break>: 10 s."""
MAX_SSML_CHARS = 8_000
"""Most characters of speech (SSML or plain text) in one outputSpeech or reprompt."""
MAX_RESPONSE_BYTES = 24 * 1024
"""Largest whole response envelope, as UTF-8 JSON: 24 KB."""
MAX_AUDIO_TAGS = 5
MAX_AUDIO_SECONDS = 240.0
"""Audio in one response: at most five <audio> tags and 240 s in all.

Amazon's announcement of the audio tag (developer forums, "New SSML Tag: Audio") allows no more than
five audio tags per response; the current SSML reference gives 240 s in total. Five is kept as the
safe bound: should it no longer apply, raising MAX_AUDIO_TAGS is the only change needed.
"""
