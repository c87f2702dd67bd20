"""Back Coach: an Alexa skill that coaches self-massage and stretching routines hands-free."""
