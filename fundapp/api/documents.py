"""Document endpoints of the API: /loans/{id}/statement.pdf and the other PDFs."""
