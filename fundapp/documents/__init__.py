"""Printable documents: WeasyPrint PDFs of loans, receipts, notices and confirmations."""
