"""The work of each role: landing pages, the collection calendar, notifications of work."""
