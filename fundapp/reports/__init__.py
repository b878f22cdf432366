"""The fund's reports as of any date: HTML, PDF and Excel from the same figures."""
