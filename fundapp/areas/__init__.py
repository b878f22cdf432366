"""Administrative units (provinces, districts, communes) as dated reference data, their
successions across the arrangements of 2025, and the lookups the rest of the app uses."""
