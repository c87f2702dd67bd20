"""Pure core: routines, planner, renderer, player and matchers; knows nothing of Alexa."""
