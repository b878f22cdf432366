"""In-app notices of the close of day: who sees which, the list, marking them read."""
